"""Response models of the ledger and witness routes, so the OpenAPI document says what each
answer holds (hashes are lowercase hex, leaves base64)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ConsistencyOut", "CosignatureOut", "EntryOut", "InclusionOut"]


class EntryOut(BaseModel):
    index: int = Field(ge=0)
    event_id: str
    kind: str
    leaf: str = Field(description="the exact leaf bytes, base64")
    leaf_hash: str = Field(description="RFC 9162 leaf hash, hex")


class ConsistencyOut(BaseModel):
    old_size: int = Field(ge=0)
    new_size: int = Field(ge=0)
    hashes: list[str] = Field(description="the proof, hex")


class InclusionOut(BaseModel):
    index: int = Field(ge=0)
    size: int = Field(ge=1)
    hashes: list[str] = Field(description="the audit path, leaf end first, hex")


class CosignatureOut(BaseModel):
    size: int = Field(ge=0, description="the tree size the cosigned checkpoint commits to")
    witnesses: list[str]
    timestamps: list[int]
