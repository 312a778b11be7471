"""The witness: c2sp.org/tlog-witness ``add-checkpoint``, with a mirror behind it.

Checks, in the order the specification gives them (each refusal is a
:class:`~facegate.regulator.common.WitnessRefused` carrying its HTTP status):

1. a malformed body: 400; an origin this regulator does not supervise (or not yet, or no
   longer): 404; no valid signature by the log's registered key: 403;
2. an old size above the checkpoint's size: 400;
3. an old size other than the size last cosigned: 409 with that size (``text/x.tlog.size``);
4. a consistency proof that does not verify: 422; the same size with another root: 409;
5. then this witness's own statement (c2sp.org/tlog-cosignature "additional statements"): it
   mirrored every entry up to the new size (pushed by the operator's link, or else fetched
   from the log's tlog-tiles, :mod:`.mirror_pull`), they hash to the signed root, and the
   index line is the one they give; otherwise 422.

The size check and the save are one atomic step: ``UPDATE reg_logs ... WHERE size = :old``,
so of two racing requests from one old size only one can move the size (on SQLite, where
writers are serialised, and on PostgreSQL, where the second UPDATE waits for the row and then
finds the size changed). The mirror checks run after that UPDATE in the same transaction, so
the entries checked are the entries saved. A log that signs a smaller checkpoint than one
already cosigned, or two roots for one size, or a proof that does not hold, leaves a
finding with the signed notes as evidence: a log's own signatures on two incompatible heads
are proof of its misbehaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facegate.errors import InvalidInput
from facegate.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    SignatureError,
    Verifier,
    open_checkpoint,
    parse_signed_note,
)
from facegate.ledger.proofs import ConsistencyProof, ProofError, verify_consistency
from facegate.regulator import index, mirror, monitor
from facegate.regulator.common import RegCore, WitnessRefused, rowcount
from facegate.regulator.findings import raise_finding, resolve
from facegate.regulator.mirror_pull import MirrorPullFailed, pull_entries
from facegate.regulator.protocol import AddCheckpoint, parse_add_checkpoint
from facegate.regulator.tables import RegLog

__all__ = ["WITNESSED_STATES", "Cosigned", "add_checkpoint"]

#: registry states whose logs are witnessed (a suspended operator is still supervised)
WITNESSED_STATES = frozenset({"active", "suspended"})


@dataclass(frozen=True, slots=True)
class Cosigned:
    """The answer to a successful ``add-checkpoint``: the cosignature line(s)."""

    origin: str
    old_size: int
    size: int
    lines: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class _Seen:
    log_id: str
    checkpoint: Checkpoint
    request: AddCheckpoint


def add_checkpoint(core: RegCore, body: bytes) -> Cosigned:
    """Handle one ``POST /add-checkpoint`` body; raise :class:`WitnessRefused` to refuse."""
    try:
        request = parse_add_checkpoint(body)
        checkpoint = Checkpoint.from_body(parse_signed_note(request.note).text)
    except (InvalidInput, CheckpointError) as err:
        raise WitnessRefused(
            f"malformed add-checkpoint request: {err.message}", status=400
        ) from None
    seen = _check(core, request, checkpoint)
    if core.before_save is not None:
        core.before_save()
    try:
        _save_or_pull(core, seen)
    except WitnessRefused as refusal:
        if refusal.rule is not None:
            key = f"{refusal.rule}:{checkpoint.size}:{_short(checkpoint.root_hash)}"
            _record(core, seen, rule=refusal.rule, why=refusal.message, key=key)
        raise
    # Persisted first (above), signed second: a crash in between costs a retry, never a
    # cosignature on something the witness could later forget.
    timestamp = int(core.now().timestamp())
    text = parse_signed_note(request.note).text
    return Cosigned(
        origin=checkpoint.origin,
        old_size=request.old_size,
        size=checkpoint.size,
        lines=core.witness.sign(text, timestamp=timestamp).line(),
        timestamp=timestamp,
    )


def _check(core: RegCore, request: AddCheckpoint, checkpoint: Checkpoint) -> _Seen:
    with core.db.read() as s:
        log = s.scalar(select(RegLog).where(RegLog.origin == checkpoint.origin))
        if log is None or log.state not in WITNESSED_STATES:
            raise WitnessRefused(
                f"no supervised log has the origin {checkpoint.origin!r}", status=404
            )
        try:
            open_checkpoint(request.note, Verifier.from_key(log.vkey))
        except SignatureError:
            raise WitnessRefused(
                "no signature on the checkpoint verifies with the log's registered key",
                status=403,
            ) from None
        except CheckpointError as err:
            raise WitnessRefused(
                f"the checkpoint is not valid: {err.message}", status=400
            ) from None
        seen = _Seen(log.id, checkpoint, request)
        stored_size, stored_root, stored_note = log.size, log.root, log.checkpoint
    if request.old_size > checkpoint.size:
        raise WitnessRefused("the old size is larger than the checkpoint's size", status=400)
    if checkpoint.size < stored_size:
        _record(
            core,
            seen,
            rule="rollback",
            why=f"size {stored_size} became {checkpoint.size}",
            key=f"rollback:{stored_size}:{_short(stored_root)}",
            before=stored_note,
        )
        raise WitnessRefused(
            f"the log signed size {checkpoint.size} after this witness cosigned size {stored_size}",
            status=409,
            size=stored_size,
        )
    if request.old_size != stored_size:
        raise WitnessRefused(
            f"this witness last cosigned size {stored_size}, not {request.old_size}",
            status=409,
            size=stored_size,
        )
    if checkpoint.size == stored_size:
        if stored_size and stored_root != checkpoint.root_hash:
            _record(
                core,
                seen,
                rule="fork",
                why=f"two roots at size {stored_size}",
                key=f"fork:{stored_size}:{_short(stored_root)}",
                before=stored_note,
            )
            raise WitnessRefused(
                f"the log signed another root at size {stored_size}", status=409, size=stored_size
            )
        return seen
    if request.old_size:
        assert stored_root is not None  # a non-zero size always has its root stored
        try:
            verify_consistency(
                stored_root,
                checkpoint.root_hash,
                ConsistencyProof(request.old_size, checkpoint.size, request.proof),
            )
        except ProofError as err:
            _record(
                core,
                seen,
                rule="fork",
                why=err.message,
                key=f"fork:{request.old_size}:{_short(stored_root)}",
                before=stored_note,
            )
            raise WitnessRefused(
                f"the consistency proof from size {request.old_size} does not verify: "
                f"{err.message}",
                status=422,
            ) from None
    return seen


def _save_or_pull(core: RegCore, seen: _Seen) -> None:
    """Save; if entries are missing, fetch them from the log's tiles once and save again."""
    try:
        _save(core, seen)
    except WitnessRefused as refusal:
        if refusal.rule != "withheld":
            raise
        try:
            pull_entries(core, seen.checkpoint.origin, seen.checkpoint.size)
        except MirrorPullFailed as err:
            raise WitnessRefused(
                f"{refusal.message}; nor did the log's tiles give it ({err.message})",
                status=422,
                rule="withheld",
            ) from None
        _save(core, seen)


def _save(core: RegCore, seen: _Seen) -> None:
    """The atomic size check and save, then the mirror and the monitor, in one transaction."""
    cp, old = seen.checkpoint, seen.request.old_size
    now = core.now()
    with core.db.transaction() as s:
        moved = rowcount(
            s.execute(
                update(RegLog)
                .where(RegLog.id == seen.log_id, RegLog.size == old)
                .values(size=cp.size, cosigned_at=now, last_push_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if moved != 1:
            size = s.scalar(select(RegLog.size).where(RegLog.id == seen.log_id))
            raise WitnessRefused(
                f"another request moved this witness to size {size} meanwhile",
                status=409,
                size=size,
            )
        log = s.get(RegLog, seen.log_id, populate_existing=True)
        assert log is not None
        if cp.size == old:
            # Same tree; its index line must still be the one cosigned at this size.
            log.index_root = index.check_index(s, log, cp, old, [])
            log.checkpoint = seen.request.note
            return
        _extend(core, s, log, old, seen)


def _extend(core: RegCore, s: Session, log: RegLog, old: int, seen: _Seen) -> None:
    cp = seen.checkpoint
    leaves = mirror.pending_leaves(s, log.id, old, cp.size)
    plan = mirror.plan_root(mirror.frontier_of(log), old, leaves, cp)
    log.index_root = index.check_index(s, log, cp, old, leaves)
    log.root = cp.root_hash
    log.frontier = mirror.frontier_bytes(plan.frontier)
    log.checkpoint = seen.request.note
    monitor.replay(core, s, log, old, leaves)
    # The same checkpoint refused earlier for want of entries is now mirrored in full.
    resolve(s, log.id, f"withheld:{cp.size}:{_short(cp.root_hash)}", now=core.now())


def _record(
    core: RegCore, seen: _Seen, *, rule: str, why: str, key: str, before: str | None = None
) -> None:
    """Keep the evidence of a refused checkpoint as a finding (its own transaction)."""
    evidence = (
        f"accepted before:\n{before or '(nothing)'}\noffered now:\n{seen.request.note}"
        if before is not None
        else seen.request.note
    )
    messages = {
        "rollback": f"rollback: {why}",
        "fork": f"fork: the log's history was rewritten ({why})",
    }
    with core.db.transaction() as s:
        raise_finding(
            s,
            seen.log_id,
            rule=rule,
            key=key,
            severity="alarm",
            message=messages.get(rule, f"refused to cosign size {seen.checkpoint.size}: {why}"),
            now=core.now(),
            entropy=core.entropy,
            details={
                "size": seen.checkpoint.size,
                "old_size": seen.request.old_size,
                "root": seen.checkpoint.root_hash.hex(),
                "why": why,
            },
            evidence=evidence,
        )


def _short(root: bytes | None) -> str:
    """A root's first 16 hex digits, to key findings by the head they are about."""
    return (root or b"").hex()[:16]
