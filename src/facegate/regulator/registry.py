"""The registry: which operators' logs this regulator supervises, and in which state.

An operator registers with a request it signs with its *ledger* key (so the key the witness
will trust for checkpoints is the key that asked): origin, verifier key, operator name and
contact, its service URL and the regulator URL it meant. The regulator checks the
signature and files the request as ``pending``; an official approves it (``active``), may
suspend it (still witnessed and monitored: supervision does not pause for a sanction) and
retire it (no longer witnessed). ``approve`` with a key registers a log directly, for scripts.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.errors import Conflict, Forbidden, InvalidInput, NotFound
from facegate.ledger.checkpoint import Verifier
from facegate.regulator.common import RegCore, aware
from facegate.regulator.protocol import registration_message
from facegate.regulator.tables import RegLog

__all__ = [
    "STATES",
    "LogInfo",
    "approve",
    "get_log",
    "list_logs",
    "log_by_origin",
    "register",
    "set_state",
    "sign_registration",
]

STATES: Final = ("pending", "active", "suspended", "retired")
REQUEST_FORMAT: Final = "facegate-registration/v1"
_FIELDS: Final = ("origin", "vkey", "operator_name", "contact", "operator_url", "regulator_url")
_MAX_SKEW: Final = timedelta(days=1)
_ALLOWED: Final = {
    "pending": {"active", "retired"},
    "active": {"suspended", "retired"},
    "suspended": {"active", "retired"},
    "retired": set[str](),
}


@dataclass(frozen=True, slots=True)
class LogInfo:
    origin: str
    vkey: str
    operator_name: str
    contact: str
    url: str
    state: str
    registered_at: datetime
    state_at: datetime
    push_interval_s: int
    filing_threshold: int
    size: int
    cosigned_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.__slots__}
        for k in ("registered_at", "state_at", "cosigned_at"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out


def _info(row: RegLog) -> LogInfo:
    return LogInfo(
        origin=row.origin,
        vkey=row.vkey,
        operator_name=row.operator_name,
        contact=row.contact,
        url=row.url,
        state=row.state,
        registered_at=aware(row.registered_at),
        state_at=aware(row.state_at),
        push_interval_s=row.push_interval_s,
        filing_threshold=row.filing_threshold,
        size=row.size,
        cosigned_at=aware(row.cosigned_at) if row.cosigned_at else None,
    )


def sign_registration(key: Ed25519PrivateKey, **fields: str) -> dict[str, Any]:
    """The operator's side: a registration request signed with its ledger key."""
    missing = [f for f in (*_FIELDS, "requested_at") if f not in fields]
    if missing:
        raise ValueError(f"a registration request needs {', '.join(missing)}")
    doc = {"format": REQUEST_FORMAT, **fields}
    signature = key.sign(registration_message(doc))
    return {"request": doc, "signature": base64.b64encode(signature).decode()}


def _checked_request(signed: Any, now: datetime) -> dict[str, str]:
    if not isinstance(signed, dict) or not isinstance(signed.get("request"), dict):
        raise InvalidInput("a registration is {request: {...}, signature: base64}")
    doc = signed["request"]
    if doc.get("format") != REQUEST_FORMAT:
        raise InvalidInput(f"not a {REQUEST_FORMAT} request")
    fields = {f: doc.get(f) for f in (*_FIELDS, "requested_at")}
    if not all(isinstance(v, str) and 0 < len(v) <= 300 for v in fields.values()):
        raise InvalidInput(f"a registration request needs {', '.join(fields)} (1-300 characters)")
    try:
        verifier = Verifier.from_key(fields["vkey"])
        signature = base64.b64decode(str(signed.get("signature")), validate=True)
        requested = aware(datetime.fromisoformat(fields["requested_at"]))
    except (ValueError, binascii.Error) as err:
        raise InvalidInput(f"the registration request cannot be read: {err}") from None
    if verifier.name != fields["origin"]:
        raise InvalidInput("the log's origin must be its key's name (c2sp.org/tlog-checkpoint)")
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
            signature, registration_message(doc)
        )
    except InvalidSignature:
        raise Forbidden(
            "the registration request is not signed by the key it registers",
            advice="Sign it with the ledger key (facegate link register does).",
        ) from None
    if abs(now - requested) > _MAX_SKEW:
        raise InvalidInput("the registration request is more than a day old or in the future")
    return {k: str(v) for k, v in fields.items()}


def register(core: RegCore, signed: Any) -> LogInfo:
    """File a signed registration request as ``pending`` (idempotent for the same key)."""
    now = core.now()
    fields = _checked_request(signed, now)
    with core.db.transaction() as s:
        row = s.scalar(select(RegLog).where(RegLog.origin == fields["origin"]))
        if row is not None:
            if row.vkey != fields["vkey"]:
                raise Conflict(
                    f"the origin {fields['origin']!r} is registered with another key",
                    advice="A log keeps its key; a new key is a new log with a new origin.",
                )
            row.url, row.contact = fields["operator_url"], fields["contact"]
            return _info(row)
        row = _new_log(core, s, fields, state="pending", now=now)
        row.request = json.dumps(signed, sort_keys=True)
        return _info(row)


def _new_log(
    core: RegCore, s: Session, fields: dict[str, str], *, state: str, now: datetime
) -> RegLog:
    row = RegLog(
        id=new_id("log", core.entropy),
        origin=fields["origin"],
        vkey=fields["vkey"],
        operator_name=fields.get("operator_name", fields["origin"])[:200],
        contact=fields.get("contact", "")[:200],
        url=fields.get("operator_url", "")[:500],
        state=state,
        request="",
        registered_at=now,
        state_at=now,
        push_interval_s=core.config.push_interval_s,
        filing_threshold=core.config.filing_threshold,
        size=0,
        frontier=b"",
        order_seq=0,
        people=0,
    )
    s.add(row)
    return row


def approve(
    core: RegCore,
    origin: str,
    *,
    vkey: str | None = None,
    push_interval_s: int | None = None,
    filing_threshold: int | None = None,
) -> LogInfo:
    """Approve a pending log; with ``vkey``, register and approve it directly."""
    now = core.now()
    if push_interval_s is not None and push_interval_s < 1:
        raise InvalidInput("the push interval is at least 1 second")
    if filing_threshold is not None and filing_threshold < 1:
        raise InvalidInput("the filing threshold is at least 1 person")
    with core.db.transaction() as s:
        row = s.scalar(select(RegLog).where(RegLog.origin == origin))
        if row is None:
            if vkey is None:
                raise NotFound(f"no registration for {origin!r}", advice="Give --vkey to add it.")
            try:
                name = Verifier.from_key(vkey.strip()).name
            except ValueError as err:
                raise InvalidInput(f"not a log verifier key: {err}") from None
            if name != origin:
                raise InvalidInput(f"the key is named {name!r}, not {origin!r}")
            row = _new_log(
                core, s, {"origin": origin, "vkey": vkey.strip()}, state="active", now=now
            )
        elif vkey is not None and vkey.strip() != row.vkey:
            raise Conflict(f"{origin!r} asked to be registered with another key")
        elif row.state != "active":
            _move(row, "active", now)
        if push_interval_s is not None:
            row.push_interval_s = push_interval_s
        if filing_threshold is not None:
            row.filing_threshold = filing_threshold
        return _info(row)


def _move(row: RegLog, state: str, now: datetime) -> None:
    if state not in _ALLOWED[row.state]:
        raise Conflict(f"a {row.state} log cannot become {state}")
    row.state, row.state_at = state, now


def set_state(core: RegCore, origin: str, state: str) -> LogInfo:
    if state not in STATES:
        raise InvalidInput(f"a state is one of {', '.join(STATES)}")
    with core.db.transaction() as s:
        row = log_by_origin(s, origin)
        _move(row, state, core.now())
        return _info(row)


def log_by_origin(s: Session, origin: str) -> RegLog:
    row = s.scalar(select(RegLog).where(RegLog.origin == origin))
    if row is None:
        raise NotFound(f"no log {origin!r} is registered with this regulator")
    return row


def get_log(core: RegCore, origin: str) -> LogInfo:
    with core.db.read() as s:
        return _info(log_by_origin(s, origin))


def list_logs(core: RegCore) -> list[LogInfo]:
    with core.db.read() as s:
        return [_info(r) for r in s.scalars(select(RegLog).order_by(RegLog.registered_at))]
