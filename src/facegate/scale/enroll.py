"""Batch enrollment on Ray: a folder or manifest of photos, against a signed roster.

The driver (this process, with the Gate) asks the door for each row in manifest order before
any photo is looked at: the person must be on the roster (:mod:`.roster`), and the door
decides the enrollment as it decides one through the API (a refusal is ledgered and the row
skipped). Admitted rows go to a pool of Ray actors, each holding one face engine, which read,
decode and embed the photo; the embedding (1 KiB) comes back inline to the driver, which
protects and seals it. Rows are committed in chunks, in manifest order: one transaction holds
the chunk's templates, their feed rows, one ledger append of their events (in row order) and
the job's new position. A run that stops (a crash, a lost worker) is resumed by running it
again: the job (``batch_jobs``, named by deployment, manifest, roster and kind) starts after
its last committed row.

Kinds: ``enroll`` (anyone on the roster); ``reenroll`` (only people the deployment's key
revocation asked to enroll again: :func:`facegate.flows.revocation.campaign`); ``migrate`` (a
model-migration campaign: each person's new template replaces their older ones in the same
transaction). A batch import does not run the API's liveness and quality checks: its photos
come from the operator's own collection under the consents on the roster.
"""

from __future__ import annotations

import csv
import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import select

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware, packs_of
from facegate.errors import InvalidInput, NotFound, PolicyDenied
from facegate.flows.biometrics import MAX_TEMPLATES_PER_SUBJECT, _admit
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.retention import template_expiry
from facegate.scale.cluster import connect
from facegate.scale.roster import Roster
from facegate.storage import tables as t
from facegate.sync import feed

__all__ = ["BatchReport", "read_manifest", "run_batch"]

BatchKind = Literal["enroll", "reenroll", "migrate"]
PHOTO_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class BatchReport:
    job_id: str
    kind: str
    total: int
    position: int
    enrolled: int
    skipped: dict[str, int] = field(default_factory=dict)
    status: str = "running"


@dataclass
class _Run:
    """One run of a batch job: who acts, against what, with which embedders."""

    core: Core
    actor: Actor
    dep_id: str
    roster: Roster
    kind: str
    pending: set[str]
    pool: list[Any]
    ray: Any
    job_id: str
    report: BatchReport


@dataclass
class _Row:
    n: int
    ref: str
    path: Path
    sha256: str = ""
    subject: t.Subject | None = None
    rules: tuple[str, ...] = ()
    skip: str | None = None
    future: Any = None


def read_manifest(source: Path) -> list[tuple[str, Path]]:
    """(subject reference, photo) rows: a CSV with columns ``subject_ref,photo`` (paths
    relative to it), or a folder whose photos are named after the person (``alice.jpg``) or
    sit in a folder named after them (``alice/1.jpg``)."""
    if source.is_dir():
        rows = []
        for path in sorted(source.rglob("*")):
            if path.suffix.lower() in PHOTO_SUFFIXES and path.is_file():
                ref = path.stem if path.parent == source else path.parent.name
                rows.append((ref, path))
        return rows
    with source.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"subject_ref", "photo"} <= set(reader.fieldnames):
            raise InvalidInput(f"{source} needs the columns subject_ref and photo")
        return [(r["subject_ref"], source.parent / r["photo"]) for r in reader]


class Embedder:
    """One face engine on a Ray worker: photo path in, embedding out (never stored)."""

    def __init__(self, home: str, limits: dict[str, Any]) -> None:
        from facegate.config import RecognitionSettings, Settings
        from facegate.core import engine_for

        self._limits = RecognitionSettings(**limits)
        self._engine = engine_for(Settings(home=Path(home), recognition=self._limits))

    def extract(self, path: str) -> tuple[str, Any, str, int]:
        """("ok", embedding, model version, faces) or ("skip", reason, "", 0)."""
        from facegate.errors import FacegateError
        from facegate.recognition import decode_image

        try:
            decoded = decode_image(Path(path).read_bytes(), limits=self._limits)
            found = self._engine.extract_for_enrollment(decoded)
        except (FacegateError, OSError) as error:
            return "skip", type(error).__name__, "", 0
        return "ok", found.embedding, found.model_version, found.faces_found


def _job(
    core: Core, dep_id: str, *, kind: str, manifest_sha: str, roster: Roster, total: int
) -> t.BatchJob:
    job_id = (
        "job_"
        + hashlib.sha256(f"{dep_id}|{kind}|{manifest_sha}|{roster.sha256}".encode()).hexdigest()[
            :24
        ]
    )
    now = core.clock()
    with core.db.transaction() as s:
        job = s.get(t.BatchJob, job_id)
        if job is None:
            job = t.BatchJob(
                id=job_id,
                deployment_id=dep_id,
                kind=kind,
                manifest_sha256=manifest_sha,
                roster_sha256=roster.sha256,
                total=total,
                position=0,
                enrolled=0,
                skipped=0,
                status="running",
                created_at=now,
                updated_at=now,
            )
            s.add(job)
        s.flush()
        s.expunge(job)
    return job


def run_batch(
    core: Core,
    actor: Actor,
    deployment_id: str,
    manifest: Path,
    roster: Roster,
    *,
    kind: BatchKind = "enroll",
    workers: int = 2,
    chunk: int = 16,
    address: str | None = None,
    progress: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Enroll the manifest's photos of the people on ``roster`` (see the module docstring);
    resumes a job of the same manifest, roster and kind where it stopped."""
    if roster.deployment_id != deployment_id:
        raise InvalidInput("the roster is for another deployment")
    rows = read_manifest(manifest)
    manifest_sha = hashlib.sha256("\n".join(f"{r}\t{p}" for r, p in rows).encode()).hexdigest()
    job = _job(
        core, deployment_id, kind=kind, manifest_sha=manifest_sha, roster=roster, total=len(rows)
    )
    report = BatchReport(job.id, kind, len(rows), job.position, job.enrolled)
    if job.position >= len(rows):
        report.status = "done"
        return report
    ray = connect(address, num_cpus=None if address else workers)
    pool = [
        ray.remote(num_cpus=1)(Embedder).remote(
            str(core.settings.home), core.settings.recognition.model_dump()
        )
        for _ in range(workers)
    ]
    pending: set[str] = _pending(core, deployment_id) if kind == "reenroll" else set()
    todo = (_Row(n, ref, path) for n, (ref, path) in enumerate(rows) if n >= job.position)
    window: deque[_Row] = deque()
    try:
        run = _Run(core, actor, deployment_id, roster, kind, pending, pool, ray, job.id, report)
        for batch in _chunks(todo, chunk, window, lambda r: _submit(run, r)):
            _commit(run, batch)
            if progress is not None:
                progress(report)
    finally:
        for embedder in pool:
            ray.kill(embedder)
    report.status = "done"
    _finish(core, job.id)
    return report


def _chunks(
    todo: Iterator[_Row], size: int, window: deque[_Row], submit: Callable[[_Row], None]
) -> Iterator[list[_Row]]:
    """Rows admitted and sent to the embedders two chunks ahead of the one committed."""
    for row in todo:
        submit(row)
        window.append(row)
        if len(window) >= 2 * size:
            yield [window.popleft() for _ in range(size)]
    while window:
        yield [window.popleft() for _ in range(min(size, len(window)))]


def _pending(core: Core, deployment_id: str) -> set[str]:
    """Subject ids a re-enrollment campaign still waits for (no template yet)."""
    with core.db.read() as s:
        asked = set(
            s.scalars(
                select(t.Reenrollment.subject_id).where(
                    t.Reenrollment.deployment_id == deployment_id
                )
            )
        )
        have = set(
            s.scalars(
                select(t.Template.subject_id).where(t.Template.deployment_id == deployment_id)
            )
        )
    return asked - have


def _submit(run: _Run, row: _Row) -> None:
    """The door first, then the photo to an embedder (nothing of a refused row is read
    but its hash)."""
    core, actor, dep_id, roster = run.core, run.actor, run.dep_id, run.roster
    try:
        image = row.path.read_bytes()
    except OSError:
        row.skip = "unreadable"
        return
    row.sha256 = hashlib.sha256(image).hexdigest()
    with core.db.read() as s:
        dep = core.deployment(s, dep_id, actor.operator_id)
        on_roster = core.keyring.ref_hmac(dep, row.ref) in roster.refs
    if not on_roster:
        row.skip = "not_on_roster"
        return
    try:
        _dep, row.subject, row.rules = _admit(
            core,
            actor,
            dep_id,
            row.ref,
            act=Act.ENROLL,
            kind=Kind.ENROLLED,
            input_sha256=row.sha256,
        )
    except (PolicyDenied, NotFound):
        row.skip = "refused"
        return
    if run.kind == "reenroll" and row.subject.id not in run.pending:
        row.skip = "not_in_campaign"
        return
    row.future = run.pool[row.n % len(run.pool)].extract.remote(str(row.path))


def _commit(run: _Run, batch: list[_Row]) -> None:
    """One transaction: the chunk's templates, feed rows, events (row order) and position."""
    core, dep_id, report = run.core, run.dep_id, run.report
    done = run.ray.get([r.future for r in batch if r.future is not None])
    results = iter(done)
    now = core.clock()
    events: list[Event] = []
    with core.db.transaction() as s:
        dep = core.deployment(s, dep_id, None)
        protector = core.keyring.protector(dep)
        expires = template_expiry(
            packs_of(dep.jurisdiction),
            enrolled_at=now,
            retention_days=dep.retention_days,
            purpose_ends_at=aware(dep.purpose_ends_at) if dep.purpose_ends_at else None,
        )
        for row in batch:
            outcome = next(results) if row.future is not None else None
            if outcome is not None and outcome[0] != "ok":
                row.skip = f"photo: {outcome[1]}"
            if row.skip is None and outcome is not None:
                event = _store(
                    run, s, dep, row, outcome, protector=protector, now=now, expires=expires
                )
                if event is None:
                    row.skip = row.skip or "gone"
                else:
                    events.append(event)
            if row.skip is not None:
                report.skipped[row.skip] = report.skipped.get(row.skip, 0) + 1
        core.record(s, *events)
        report.enrolled += len(events)
        report.position = batch[-1].n + 1
        job = s.get(t.BatchJob, run.job_id, with_for_update=True)
        assert job is not None
        job.position, job.enrolled, job.updated_at = report.position, report.enrolled, now
        job.skipped = sum(report.skipped.values())
    core.caught_up()


def _store(
    run: _Run,
    s: Any,
    dep: t.Deployment,
    row: _Row,
    outcome: Any,
    *,
    protector: Any,
    now: Any,
    expires: Any,
) -> Event | None:
    assert row.subject is not None
    core, kind = run.core, run.kind
    subject = s.get(t.Subject, row.subject.id, with_for_update=True)
    if subject is None:
        return None  # withdrew while the photo was processed
    old = list(s.scalars(select(t.Template.id).where(t.Template.subject_id == subject.id)))
    if kind == "migrate" and old:
        s.query(t.Template).filter(t.Template.id.in_(old)).delete(synchronize_session=False)
        feed.templates_removed(s, dep.id, old)
    elif len(old) >= MAX_TEMPLATES_PER_SUBJECT:
        row.skip = "templates_full"
        return None
    _status, embedding, model_version, faces = outcome
    template = protector.protect(embedding)
    template_id = new_id("tpl", core.entropy)
    sealed = protector.seal_template(
        template,
        subject_id=subject.id,
        template_id=template_id,
        data_key=core.keyring.data_key(dep, subject.id),
    )
    s.add(
        t.Template(
            id=template_id,
            subject_id=subject.id,
            deployment_id=dep.id,
            scheme=dep.scheme,
            sealed=sealed,
            created_at=now,
            expires_at=expires,
        )
    )
    feed.template_added(s, dep.id, template_id, subject.id)
    return Event(
        Kind.ENROLLED,
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        subject=subject.pseudonym,
        rule_ids=row.rules,
        by=None,
        details={
            "input_sha256": row.sha256,
            "template_id": template_id,
            "model_version": model_version,
            "scheme": dep.scheme,
            "faces_found": faces,
            "batch_job": run.job_id,
            "batch_row": row.n,
            **({"replaced_templates": len(old)} if kind == "migrate" else {}),
        },
    )


def _finish(core: Core, job_id: str) -> None:
    with core.db.transaction() as s:
        job = s.get(t.BatchJob, job_id)
        if job is not None:
            job.status, job.updated_at = "done", core.clock()
