"""Pushing the operator's checkpoints to its regulator's witness (c2sp.org/tlog-witness).

One push: send the entries the witness has not mirrored, then ``add-checkpoint`` with the
size the witness last cosigned and a consistency proof from it, and store the cosignature
(:mod:`facegate.ledger.cosignatures`). The witness's refusals are read as the protocol means
them:

* 409 with a size larger than this log: the log is smaller than a size the witness
  cosigned, a **rollback** (a restored backup, or entries deleted);
* 409 at the log's own size once the sizes agree, or 422: this log's history is not the one
  the witness cosigned, a **fork**, or the witness refused what it mirrored;
* 409 with a smaller size: the sizes disagreed; the push is retried once from that size.

An alarm is a ``witness.alarm`` ledger event (written once per distinct alarm, not on every
retry) and the link's ``last_error``: the operator's own log records that the regulator has
seen something wrong, within the push that found it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from facegate.core import Core, aware
from facegate.ledger import cosignatures, records
from facegate.ledger.events import Event, Kind
from facegate.regulator.link_client import RegulatorClient, WitnessAnswer
from facegate.storage import tables as t

__all__ = ["PushResult", "push_checkpoint"]

_log = logging.getLogger("facegate.regulator.link")


@dataclass(frozen=True, slots=True)
class PushResult:
    """``outcome``: cosigned, skipped (nothing new), alarm, or error (see ``message``)."""

    outcome: str
    size: int
    witness_size: int
    message: str = ""
    entries_sent: int = 0


def push_checkpoint(
    core: Core, link_id: str, client: RegulatorClient, *, force: bool = False
) -> PushResult:
    """Push the latest checkpoint unless the witness already holds it and it is fresh."""
    with core.db.read() as s:
        link = s.get(t.RegulatorLink, link_id)
        assert link is not None
        size = records.ledger_size(s)
        note = records.latest_head(s).note if size else ""
        believed, last = link.witness_size, link.last_push_at
    if not size:
        return PushResult("skipped", 0, believed)
    due = last is None or core.clock() - aware(last) >= timedelta(
        seconds=max(link.push_interval_s / 2, 1)
    )
    if size == believed and not due and not force:
        return PushResult("skipped", size, believed)
    result = _attempt(core, link_id, client, size, note, old=min(believed, size))
    if result.outcome == "retry":
        result = _attempt(core, link_id, client, size, note, old=result.witness_size)
        if result.outcome == "retry":
            result = PushResult("error", size, result.witness_size, "the witness keeps moving")
    _settle(core, link_id, result)
    return result


def _attempt(
    core: Core, link_id: str, client: RegulatorClient, size: int, note: str, *, old: int
) -> PushResult:
    sent = 0
    if size > old:
        with core.db.read() as s:
            entries = [
                bytes(d)
                for d in s.scalars(
                    select(t.LedgerEntry.data)
                    .where(t.LedgerEntry.idx >= old, t.LedgerEntry.idx < size)
                    .order_by(t.LedgerEntry.idx)
                )
            ]
            proof = records.consistency(s, old, size).hashes if old else ()
        sent = client.push_entries(old, entries)
    else:
        proof = ()
    answer = client.add_checkpoint(old, proof, note)
    if answer.ok:
        with core.db.transaction() as s:
            cosignatures.accept_cosigned(s, note + answer.text, now=core.clock())
        return PushResult("cosigned", size, size, entries_sent=sent)
    return _refused(size, old, answer, sent)


def _refused(size: int, old: int, answer: WitnessAnswer, sent: int) -> PushResult:
    reason = answer.text.strip()[:500]
    if answer.status == 409 and answer.size is not None:
        witness = answer.size
        if witness > size:
            return PushResult(
                "alarm",
                size,
                witness,
                f"rollback: the witness cosigned size {witness}, this log is at {size}",
                sent,
            )
        if witness == size and old == size:
            return PushResult(
                "alarm", size, witness, f"fork: the witness holds another root at size {size}", sent
            )
        return PushResult("retry", size, witness, entries_sent=sent)
    if answer.status == 422:
        return PushResult("alarm", size, old, f"refused: {reason}", sent)
    return PushResult("error", size, old, f"HTTP {answer.status}: {reason}", sent)


def _settle(core: Core, link_id: str, result: PushResult) -> None:
    """Keep the outcome on the link; ledger an alarm the first time it is seen."""
    now = core.clock()
    with core.db.transaction() as s:
        link = s.get(t.RegulatorLink, link_id)
        assert link is not None
        if result.outcome == "cosigned":
            link.witness_size, link.last_push_at, link.last_error = result.size, now, ""
            link.state = "active"
            return
        if result.outcome != "alarm":
            link.last_error = result.message
            return
        what = result.message.split(":", 1)[0]
        key = f"alarm:{what}:{result.witness_size}"
        if link.last_error.startswith(key):
            return  # this alarm is in the ledger already
        link.last_error = f"{key} {result.message}"
        _log.error("witness alarm from %s: %s", link.url, result.message)
        core.record(
            s,
            Event(
                Kind.WITNESS_ALARM,
                now,
                details={
                    "what": what,
                    "regulator": link.url,
                    "witness_key": link.witness_key,
                    "size": result.size,
                    "witness_size": result.witness_size,
                    "message": result.message,
                },
            ),
        )
