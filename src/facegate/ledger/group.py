"""Group commit: concurrent single appends share one durable transaction.

A ledger append must be in the transaction of the change it records, and every transaction
that appends locks the one ``ledger_state`` row and waits for its commit's fsync: one request
at a time, one fsync each (about 300 per second on SQLite with ``synchronous=FULL``). Here the
requests of one process that arrive while a commit is under way wait together; the next
*leader* (one of the waiting threads) runs all their work in one transaction, makes one
append of all their events (one Merkle update, one index update, one signed checkpoint), and
commits once. Each caller is answered only after that commit, so what is acknowledged is as
durable as before. Across processes the database's lock serialises the leaders as it
serialised single appends.

An event appended alone (:meth:`GroupCommit.append`, what every verification and refusal
sends) is made ready in its caller's thread before it queues: its id, leaf bytes, leaf hash
and index keys do not depend on where it lands. That work then overlaps the commit under
way instead of lengthening the leader's, which everyone in the next batch waits for. The
leader takes its batch once its transaction has begun (round trips to PostgreSQL, SQLite's
write lock), so that the callers who queue meanwhile join it instead of waiting for the next:
with 64 clients, about 51 events a transaction instead of 38.

A caller's work is a function of the session that changes what it must and returns the
events that record it; it may be run twice (alone, after its batch failed), so it does
nothing but work in that session. If a batch fails, each of its jobs is run again in a
transaction of its own, so one bad request fails alone and the others are committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Final

from sqlalchemy.orm import Session

from facegate._internal.clock import Entropy
from facegate.ledger.events import Event, Recorded
from facegate.ledger.store import LedgerStore, Prepared, prepare
from facegate.storage.db import Database

__all__ = ["GroupCommit", "Work"]

#: what a caller does in the shared transaction: change rows, return the events recording it
Work = Callable[[Session], Sequence[Event | Prepared]]
#: most jobs one transaction takes (the rest wait for the next)
MOST: Final = 512


class _Job:
    """One caller's work; its thread parks on ``gate``, which is released when the job is
    answered or handed the lead (a bare lock: threading.Event would build a Condition and
    a waiter lock per wait, a cost each of thousands of requests a second pays)."""

    __slots__ = ("error", "gate", "lead", "result", "work")

    def __init__(self, work: Work) -> None:
        self.work = work
        self.gate = threading.Lock()
        self.gate.acquire()
        self.lead = False
        self.result: list[Recorded] | None = None
        self.error: BaseException | None = None

    def answer(self) -> None:
        self.lead = False
        self.gate.release()


class GroupCommit:
    """The commit leader of one process's ledger appends (thread-safe)."""

    def __init__(
        self, db: Database, ledger: LedgerStore, *, entropy: Entropy, most: int = MOST
    ) -> None:
        self._db = db
        self._ledger = ledger
        self._entropy = entropy
        self._most = most
        self._lock = threading.Lock()
        self._queue: list[_Job] = []
        self._leading = False
        #: transactions committed and jobs they carried (for benchmarks and tests)
        self.transactions = 0
        self.jobs = 0

    def append(self, *events: Event) -> list[Recorded]:
        """Append ``events`` in a transaction shared with concurrent appends."""
        ready = [prepare(event, self._entropy) for event in events]  # before the queue
        return self.submit(lambda _s: ready)

    def submit(self, work: Work) -> list[Recorded]:
        """Run ``work`` in a shared transaction, append its events, return after the commit."""
        job = _Job(work)
        with self._lock:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.gate.acquire()  # answered, or handed the lead
            if not job.lead:
                return _result(job)
        self._lead()
        job.gate.acquire()  # the lead's own job is in the batch it committed
        return _result(job)

    def _lead(self) -> None:
        """Commit one batch, then hand the lead to the first job still waiting, if any."""
        self._commit(None)
        with self._lock:
            if self._queue:
                nxt = self._queue[0]
                nxt.lead = True
                nxt.gate.release()
            else:
                self._leading = False

    def _take(self) -> list[_Job]:
        with self._lock:
            batch, self._queue = self._queue[: self._most], self._queue[self._most :]
        return batch

    def _commit(self, batch: list[_Job] | None) -> None:
        """Commit ``batch``, or (None) the jobs queued once the transaction has begun."""
        try:
            with self._db.transaction() as s:
                if batch is None:
                    s.connection()  # begins it: whoever queues meanwhile joins this batch
                    batch = self._take()
                spans: list[tuple[int, int]] = []
                events: list[Event | Prepared] = []
                for job in batch:
                    start = len(events)
                    events.extend(job.work(s))
                    spans.append((start, len(events)))
                recorded = self._ledger.append(s, events, entropy=self._entropy)
        except BaseException as error:
            if batch is None:  # the transaction did not begin: each job tries alone
                batch = self._take()
            if len(batch) == 1:
                batch[0].error = error
                batch[0].answer()
                return
            for job in batch:  # one failed: each alone, so only it fails
                self._commit([job])
            return
        self.transactions += 1
        self.jobs += len(batch)
        for job, (start, end) in zip(batch, spans, strict=True):
            job.result = recorded[start:end]
            job.answer()


def _result(job: _Job) -> list[Recorded]:
    if job.error is not None:
        raise job.error
    assert job.result is not None
    return job.result
