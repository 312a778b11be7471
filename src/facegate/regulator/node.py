"""The regulator node as one object: what the HTTP routes and the command line call.

reg = Regulator.open(Path("~/regulator"))
reg.approve("facegate.example/ledger", vkey="facegate.example/ledger+1a2b3c4d+AQ...")
reg.add_checkpoint(body)           # c2sp.org/tlog-witness
reg.issue_order(origin, kind="stop", deployment_id="dep_...", reason="...")
reg.risk()
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from sqlalchemy import select

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.errors import InvalidInput, NotFound, Unauthenticated
from facegate.regulator import monitor, orders, registry, witness
from facegate.regulator.common import RegCore
from facegate.regulator.findings import FindingInfo, list_findings
from facegate.regulator.home import RegulatorHome, open_home
from facegate.regulator.mirror import EntryConflict, Staged, record_conflict, stage_entries
from facegate.regulator.protocol import verify_link
from facegate.regulator.registry import LogInfo, log_by_origin
from facegate.regulator.risk import risk_view
from facegate.regulator.tables import RegInbox, RegLog
from facegate.regulator.witness import WITNESSED_STATES, Cosigned

__all__ = ["Regulator"]


class Regulator:
    """One regulator installation: its home, database and keys."""

    def __init__(
        self, home: RegulatorHome, *, clock: Clock = utc_now, entropy: Entropy = system_entropy
    ) -> None:
        self.home = home
        self.core = RegCore(
            db=home.db,
            witness=home.witness,
            authority=home.authority,
            config=home.config,
            clock=clock,
            entropy=entropy,
        )

    @classmethod
    def open(cls, home: Path, *, clock: Clock = utc_now, entropy: Entropy = system_entropy) -> Self:
        return cls(open_home(home), clock=clock, entropy=entropy)

    def close(self) -> None:
        self.home.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- keys and access ---

    @property
    def witness_key(self) -> str:
        """The witness's verifier key (cosignature/v1, c2sp.org/signed-note vkey format)."""
        return self.core.witness.verifier_key()

    @property
    def authority_key(self) -> str:
        """The key that signs orders and receipts (Ed25519 note key)."""
        return self.core.authority.verifier().verifier_key()

    def check_admin(self, token: str | None) -> None:
        """An official's bearer token; :class:`Unauthenticated` unless it is the one made at
        ``init`` (compared by hash, in constant time)."""
        digest = hashlib.sha256((token or "").encode()).digest()
        if not token or not hmac.compare_digest(digest, self.home.admin_token_sha256):
            raise Unauthenticated("this route needs the regulator's admin token")

    def check_link(
        self, origin: str | None, header: str | None, method: str, path: str, body: bytes
    ) -> str:
        """The log a signed link request comes from (active or suspended), or raise."""
        if not origin:
            raise Unauthenticated("a link request names its origin")
        with self.core.db.read() as s:
            log = s.scalar(select(RegLog).where(RegLog.origin == origin))
            if log is None:
                raise Unauthenticated(f"no log {origin!r} is registered here")
            vkey, state = log.vkey, log.state
        verify_link(vkey, header, method, path, body, now=int(self.core.now().timestamp()))
        if state not in WITNESSED_STATES:
            raise Unauthenticated(f"the log {origin!r} is {state}, not active")
        return origin

    # --- registry ---

    def register(self, signed: Any) -> LogInfo:
        return registry.register(self.core, signed)

    def approve(
        self,
        origin: str,
        *,
        vkey: str | None = None,
        push_interval_s: int | None = None,
        filing_threshold: int | None = None,
    ) -> LogInfo:
        return registry.approve(
            self.core,
            origin,
            vkey=vkey,
            push_interval_s=push_interval_s,
            filing_threshold=filing_threshold,
        )

    def set_state(self, origin: str, state: str) -> LogInfo:
        return registry.set_state(self.core, origin, state)

    def logs(self) -> list[LogInfo]:
        return registry.list_logs(self.core)

    def log(self, origin: str) -> LogInfo:
        return registry.get_log(self.core, origin)

    # --- witness and mirror ---

    def add_checkpoint(self, body: bytes) -> Cosigned:
        return witness.add_checkpoint(self.core, body)

    def stage_entries(self, origin: str, start: int, entries: Sequence[bytes]) -> Staged:
        """Stage entries for the next checkpoint; a changed copy of a mirrored entry is
        refused and recorded as a finding (after the refused transaction rolled back)."""
        try:
            with self.core.db.transaction() as s:
                log = s.scalar(select(RegLog).where(RegLog.origin == origin).with_for_update())
                if log is None:
                    raise NotFound(f"no log {origin!r} is registered here")
                log_id = log.id
                return stage_entries(
                    s, log, start, entries, now=self.core.now(), entropy=self.core.entropy
                )
        except EntryConflict as err:
            with self.core.db.transaction() as s:
                record_conflict(s, log_id, err, now=self.core.now(), entropy=self.core.entropy)
            raise

    def stage_encoded(self, origin: str, body: Any) -> Staged:
        """``{start, entries: [base64]}`` as the link posts it."""
        if not isinstance(body, dict) or not isinstance(body.get("entries"), list):
            raise InvalidInput("post {start: N, entries: [base64, ...]}")
        start = body.get("start")
        if not isinstance(start, int) or isinstance(start, bool):
            raise InvalidInput("start is the index of the first entry")
        try:
            entries = [base64.b64decode(str(e), validate=True) for e in body["entries"]]
        except (binascii.Error, ValueError):
            raise InvalidInput("entries are base64 leaf bytes") from None
        return self.stage_entries(origin, start, entries)

    # --- orders, inbox, findings, risk ---

    def issue_order(
        self,
        origin: str,
        *,
        kind: str,
        reason: str,
        deployment_id: str | None = None,
        due_at: datetime | None = None,
    ) -> dict[str, Any]:
        return orders.issue_order(
            self.core, origin, kind=kind, reason=reason, deployment_id=deployment_id, due_at=due_at
        )

    def orders_after(self, origin: str, after: int = 0) -> list[dict[str, Any]]:
        return orders.orders_after(self.core, origin, after)

    def receive(
        self, origin: str, *, what: str, ref: str, document: dict[str, Any]
    ) -> orders.Receipt:
        return orders.receive(self.core, origin, what=what, ref=ref, document=document)

    def findings(self, origin: str, *, open_only: bool = False) -> list[FindingInfo]:
        with self.core.db.read() as s:
            log = log_by_origin(s, origin)
            return list_findings(s, log.id, origin, open_only=open_only)

    def inbox(self, origin: str) -> list[dict[str, Any]]:
        """What the log delivered, oldest first, with the receipts given for it."""
        with self.core.db.read() as s:
            log = log_by_origin(s, origin)
            rows = s.scalars(
                select(RegInbox).where(RegInbox.log_id == log.id).order_by(RegInbox.received_at)
            )
            return [
                {
                    "receipt_id": r.id,
                    "what": r.what,
                    "ref": r.ref,
                    "document": r.document,
                    "document_sha256": r.document_sha256,
                    "receipt": r.receipt,
                    "received_at": r.received_at.isoformat(),
                }
                for r in rows
            ]

    def sweep(self) -> int:
        return monitor.sweep(self.core)

    def risk(self, origin: str | None = None) -> list[dict[str, Any]]:
        return risk_view(self.core, origin)
