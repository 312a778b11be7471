"""Principals: the people (and services) acting for an operator, each with one role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facegate.storage.tables.base import Base

__all__ = ["Principal", "SelfCheck"]


class Principal(Base):
    """One person acting for an operator. Names are unique per operator, case-insensitively
    (``name_key``), so that "r1" and "R1" cannot pass for two reviewers."""

    __tablename__ = "principals"
    __table_args__ = (UniqueConstraint("operator_id", "name_key"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SelfCheck(Base):
    """A security self-check (CN-FR-14): each control measured, and the packs' verdict."""

    __tablename__ = "selfchecks"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ok: Mapped[bool] = mapped_column(Boolean)
    #: control -> True/False/None, plus ``ledger_verified`` and ``keys_apart``
    controls: Mapped[dict[str, object]] = mapped_column(JSON)
    event_id: Mapped[str] = mapped_column(String(40))
