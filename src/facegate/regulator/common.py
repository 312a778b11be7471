"""Small things every regulator module shares: the refusal error and time helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
from sqlalchemy import CursorResult, Result

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.errors import FacegateError
from facegate.ledger.checkpoint import Cosigner, Signer
from facegate.storage.db import Database

if TYPE_CHECKING:
    from facegate.regulator.home import RegulatorConfig

__all__ = ["RegCore", "WitnessRefused", "aware", "rowcount"]


class WitnessRefused(FacegateError):
    """The witness will not cosign; ``status`` is the HTTP status c2sp.org/tlog-witness
    prescribes (400, 403, 404, 409, 422) and ``size`` the witness's size for a 409."""

    code = "witness_refused"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        size: int | None = None,
        rule: str | None = None,
        advice: str | None = None,
    ) -> None:
        super().__init__(message, advice=advice)
        self.status = status
        self.size = size
        #: the finding this refusal is evidence for, if any (withheld, index_mismatch, ...)
        self.rule = rule

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "status": self.status, "size": self.size}


def aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class RegCore:
    """What the regulator's modules share: database, keys, configuration, time, randomness.

    ``before_save`` is called between a witness's checks and its atomic save (tests use it to
    line two requests up on the race that c2sp.org/tlog-witness warns about).
    """

    db: Database
    witness: Cosigner
    authority: Signer
    config: RegulatorConfig
    clock: Clock = utc_now
    entropy: Entropy = system_entropy
    before_save: Callable[[], None] | None = field(default=None, repr=False)
    #: the client the mirror fetches operators' tiles with (None: a fresh one per fetch)
    http: httpx.Client | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return self.clock()


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (what a conditional update's atomicity is read from)."""
    return cast(CursorResult[Any], result).rowcount
