"""What every flow shares: the store, the keys, the ledger, the clock and the lookups.
Policy decisions go through one door, :mod:`facegate.flows.enforce`."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.clock import Clock, Entropy
from facegate.config import Settings
from facegate.errors import InvalidInput, InvalidTemplate, NotFound, PolicyDenied, RecordAltered
from facegate.gallery import Galleries
from facegate.keyring import Keyring
from facegate.ledger.events import Event, Kind, Recorded
from facegate.ledger.held import hold_to_record
from facegate.ledger.store import LedgerStore
from facegate.policy import parse_jurisdiction
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.storage.db import Database

if TYPE_CHECKING:
    from facegate.ledger.group import GroupCommit
    from facegate.liveness import PassiveLiveness
    from facegate.sync.follower import Follower


@dataclass
class Core:
    settings: Settings
    db: Database
    keyring: Keyring
    ledger: LedgerStore
    clock: Clock
    entropy: Entropy
    galleries: Galleries
    engine_: FaceEngine | None = None
    #: applies the change feed to the galleries (:mod:`facegate.sync`)
    follower: Follower | None = None
    #: shares one transaction among concurrent single appends (:mod:`facegate.ledger.group`)
    group: GroupCommit | None = None
    #: passive liveness, created on first use like the engine (tests may pass their own)
    liveness_: PassiveLiveness | None = None
    #: the parties of encrypted verification this process runs or talks to, by deployment
    #: (:mod:`facegate.encrypted.setup`); closed with the Gate
    parties: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.follower is None:
            from facegate.sync.follower import Follower

            self.follower = Follower(self)  # from the feed's position now
        if self.group is None:
            from facegate.ledger.group import GroupCommit

            self.group = GroupCommit(self.db, self.ledger, entropy=self.entropy)

    @property
    def engine(self) -> FaceEngine:
        """The face engine, created on first use (models load lazily inside it)."""
        with self._lock:
            if self.engine_ is None:
                self.engine_ = engine_for(self.settings)
            return self.engine_

    @property
    def liveness(self) -> PassiveLiveness:
        """Passive liveness (MiniFASNet), created on first use; its models load lazily."""
        with self._lock:
            if self.liveness_ is None:
                from facegate.liveness import PassiveLiveness

                self.liveness_ = PassiveLiveness()
            return self.liveness_

    def caught_up(self) -> None:
        """Apply every committed gallery change, this process's and others', in feed order
        (after a flow's commit, before a search). A failure is logged, not raised: the
        change is committed, and the feed's follower applies it on its next round."""
        if self.follower is None:
            return
        try:
            self.follower.catch_up()
        except Exception:
            logging.getLogger("facegate.sync").exception("could not apply the change feed")

    # --- ledger ---

    def record(self, s: Session, *events: Event) -> list[Recorded]:
        """Append to the ledger inside the caller's transaction."""
        return self.ledger.append(s, events, entropy=self.entropy)

    def record_alone(self, *events: Event) -> list[Recorded]:
        """Append events that record no other change, in a transaction shared with the
        concurrent appends of this process (group commit); returns after the commit."""
        assert self.group is not None
        return self.group.append(*events)

    def record_denial(self, err: PolicyDenied, event: Event) -> str:
        """A refusal is evidence too: record it in a transaction of its own."""
        denied = Event(
            Kind.DENIED,
            event.at,
            operator=event.operator,
            deployment=event.deployment,
            subject=event.subject,
            rule_ids=err.rule_ids,
            details={"act": str(event.kind), **event.details},
            by=event.by,
        )
        return self.record_alone(denied)[0].event_id

    # --- lookups ---

    def deployment(self, s: Session, deployment_id: str, operator_id: str | None) -> t.Deployment:
        """``deployment_id`` (of ``operator_id``, when given: another operator's deployment
        is not found, so that no error names another operator's objects)."""
        dep = s.get(t.Deployment, deployment_id) if len(deployment_id) <= 40 else None
        if dep is None or (operator_id is not None and dep.operator_id != operator_id):
            raise NotFound(
                f"no deployment {deployment_id!r}",
                advice="List your deployments with 'facegate deployment list'.",
            )
        hold_to_record(s, dep)  # as the ledger last committed to it, or RecordAltered
        return dep

    def subject(self, s: Session, dep: t.Deployment, subject_ref: str) -> t.Subject | None:
        """The person ``subject_ref`` names, found by its keyed hash and then held to the
        reference sealed in the row: the hash is a plain column, and a row given another
        person's hash (a database edited outside facegate) would answer for them."""
        ref = clean_ref(subject_ref)
        row = s.scalar(
            select(t.Subject).where(
                t.Subject.deployment_id == dep.id,
                t.Subject.ref_hmac == self.keyring.ref_hmac(dep, ref),
            )
        )
        if row is not None:
            try:
                held = self.keyring.open_ref(dep, row)
            except NotFound:  # the key is destroyed: an erasure's own checks answer
                return row
            except InvalidTemplate:
                held = None
            if held != ref:
                raise RecordAltered("a person's record does not hold the reference it is found by")
        return row

    def notice(self, s: Session, deployment_id: str) -> t.Notice | None:
        """The newest notice published for the deployment (None before its first sign-off)."""
        return s.scalar(
            select(t.Notice)
            .where(t.Notice.deployment_id == deployment_id)
            .order_by(t.Notice.version.desc())
            .limit(1)
        )


def engine_for(settings: Settings) -> FaceEngine:
    """The face engine the settings ask for. The ONNX model is converted locally from the
    dlib weights on first use and cached in the home; nothing is downloaded."""
    if settings.recognition.backend == "dlib":
        return FaceEngine(settings.recognition)
    from facegate.recognition.onnx import OnnxBackend

    backend = OnnxBackend(cache_dir=settings.home.expanduser() / "models")
    return FaceEngine(settings.recognition, backend)


def packs_of(jurisdiction: str) -> tuple[str, ...]:
    """The packs of a stored jurisdiction (``"cn"``, ``"cn+ind-2019"``); see
    :func:`facegate.policy.parse_jurisdiction`."""
    return parse_jurisdiction(jurisdiction)


def clean_ref(subject_ref: str) -> str:
    ref = subject_ref.strip()
    if not ref or len(ref) > 200:
        raise InvalidInput(
            "a subject reference must be 1 to 200 characters",
            advice="Use the operator's own id for the person, e.g. an employee or flat number.",
        )
    return ref


def aware(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
