"""Issue 15 item 4: group commit. Concurrent single appends share one durable transaction;
a failing one fails alone; and under kill -9 no acknowledged append is lost and the ledger
still verifies (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, select

from facegate.errors import InvalidInput
from facegate.ledger import records
from facegate.ledger.events import Event, Kind
from facegate.ledger.group import GroupCommit
from facegate.ledger.index_hasher import key_hash
from facegate.ledger.index_store import IndexStore
from facegate.ledger.store import LedgerStore
from facegate.storage import tables as t
from facegate.storage.db import Database, make_engine, migrate

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def _store() -> LedgerStore:
    return LedgerStore(origin="test.facegate/ledger", signing_key=KEY, clock=lambda: T0)


def _event(n: int) -> Event:
    return Event(Kind.VERIFIED, T0, operator="op", deployment="dep", details={"n": n})


def _together(client: Callable[[int], None], clients: int) -> None:
    """Run ``client(c)`` for each of ``clients`` threads at once; return when all are done."""
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def test_concurrent_appends_share_transactions_and_a_bad_one_fails_alone(url: str) -> None:
    db = Database(make_engine(url))
    migrate(db.engine)
    store = _store()
    group = GroupCommit(db, store, entropy=os.urandom)
    ids: list[str] = []
    failures: list[BaseException] = []

    def client(c: int) -> None:
        for j in range(20):
            if c == 0 and j == 10:  # a job whose work fails: only its caller sees it
                with pytest.raises(ZeroDivisionError):
                    group.submit(lambda _s: [_event(1 // 0)])
                continue
            try:
                ids.extend(r.event_id for r in group.append(_event(c * 100 + j)))
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

    _together(client, 16)
    assert not failures
    assert len(ids) == 16 * 20 - 1
    assert group.transactions < group.jobs, "some appends shared a transaction"
    with db.read() as s:
        stored = set(s.scalars(select(t.LedgerEntry.event_id)))
    assert stored == set(ids)
    assert store.verify(db, KEY.public_key().public_bytes_raw()).ok
    db.dispose()


def test_callers_who_queue_while_the_leader_begins_join_its_batch(url: str) -> None:
    """The leader takes its batch once its transaction has begun: the callers who queue
    while it waits for its connection (held here until five have queued) share its commit."""
    db = Database(make_engine(url))
    migrate(db.engine)
    group = GroupCommit(db, _store(), entropy=os.urandom)
    began, go = threading.Event(), threading.Event()

    def hold(*_: object) -> None:
        if not began.is_set():
            began.set()
            assert go.wait(30), "the test never let the leader go on"

    event.listen(db.engine, "checkout", hold)
    leader = threading.Thread(target=group.append, args=(_event(0),))
    leader.start()
    assert began.wait(30)
    others = [threading.Thread(target=group.append, args=(_event(n),)) for n in range(1, 6)]
    for th in others:
        th.start()
    deadline = time.monotonic() + 30
    while len(group._queue) < 6 and time.monotonic() < deadline:  # the five are queued
        time.sleep(0.001)
    go.set()
    for th in [leader, *others]:
        th.join()
    event.remove(db.engine, "checkout", hold)
    assert (group.transactions, group.jobs) == (1, 6)
    assert _store().verify(db, KEY.public_key().public_bytes_raw()).size == 6
    db.dispose()


def test_the_audit_reads_one_state_while_others_append(url: str) -> None:
    """The self-check audits the ledger while the service appends (two workers start at
    once, and each ledgers its check): a read must be one snapshot, never a mix of states
    (on PostgreSQL, READ COMMITTED made this audit fail with a worker appending)."""
    db = Database(make_engine(url))
    migrate(db.engine)
    store = _store()
    group = GroupCommit(db, store, entropy=os.urandom)
    group.append(*(_event(n) for n in range(50)))
    stop = threading.Event()

    def appender() -> None:
        n = 0
        while not stop.is_set():
            group.append(_event(n))
            n += 1

    th = threading.Thread(target=appender)
    th.start()
    try:
        audits = [store.verify(db, KEY.public_key().public_bytes_raw()) for _ in range(8)]
    finally:
        stop.set()
        th.join()
    assert [a.problem for a in audits if not a.ok] == []
    assert audits[-1].size > audits[0].size, "appends went on during the audits"
    db.dispose()


def test_workers_that_move_the_index_snapshot_under_each_other_stay_in_step(url: str) -> None:
    """Three workers (an index view each) append at once and write the bucket snapshot every
    few buckets, so each keeps finding the snapshot moved and other workers' change rows to
    lay over its view; every proof handed out checks against its signed head, and the audit
    rebuilds the same index from the log."""
    db = Database(make_engine(url))
    migrate(db.engine)
    workers = [
        LedgerStore(
            origin="test.facegate/ledger",
            signing_key=KEY,
            clock=lambda: T0,
            index=IndexStore(compact_buckets=5),
        )
        for _ in range(3)
    ]
    groups = [GroupCommit(db, w, entropy=os.urandom) for w in workers]
    failures: list[BaseException] = []

    def client(c: int) -> None:
        try:
            for j in range(15):
                subject = f"{(c * 7 + j) % 40:032x}"
                groups[c % 3].append(
                    Event(Kind.VERIFIED, T0, deployment=f"dep{c % 2}", subject=subject)
                )
                with db.read() as s:
                    size = records.ledger_size(s)
                    workers[(c + 1) % 3].index.prove(s, key_hash("subject", subject), size)  # type: ignore[union-attr]
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    _together(client, 9)
    assert not failures, failures[0]
    report = workers[0].verify(db, KEY.public_key().public_bytes_raw())
    assert report.ok, report.problem
    with db.read() as s:
        snapshot = s.scalar(select(t.LedgerIndexState.size).where(t.LedgerIndexState.id == 2))
    assert snapshot, "the snapshot moved"
    db.dispose()


def test_what_a_store_keeps_from_a_rolled_back_append_is_not_built_on(url: str) -> None:
    """A store keeps its last append's tree frontier, to skip reading it next time. After
    that append rolls back and another process appends as many events, the state has the
    same size: the kept frontier must not be used (the index root tells them apart)."""
    db = Database(make_engine(url))
    migrate(db.engine)
    mine, other = _store(), _store()
    with db.transaction() as s:
        mine.append(s, [_event(0)], entropy=os.urandom)
    with pytest.raises(RuntimeError), db.transaction() as s:
        mine.append(s, [_event(1), _event(2)], entropy=os.urandom)
        raise RuntimeError("rolled back after the append")
    with db.transaction() as s:
        other.append(s, [_event(3), _event(4)], entropy=os.urandom)
    with db.transaction() as s:
        mine.append(s, [_event(5)], entropy=os.urandom)
    report = mine.verify(db, KEY.public_key().public_bytes_raw())
    assert report.ok, report.problem
    assert report.size == 4
    db.dispose()


def test_an_append_sends_its_writes_to_postgresql_as_one_statement(url: str) -> None:
    """On PostgreSQL an append's writes after its entries (nodes, the index's change,
    snapshot and buckets, the state, the signed head) go as one statement; on SQLite each
    goes alone. Either way every row lands: the ledger verifies, and the head keeps its time."""
    db = Database(make_engine(url))
    migrate(db.engine)
    store = LedgerStore(
        origin="test.facegate/ledger",
        signing_key=KEY,
        clock=lambda: T0,
        index=IndexStore(compact_buckets=1),  # a snapshot and its buckets in every append
    )
    with db.transaction() as s:
        store.append(s, [_event(0)], entropy=os.urandom)
    sent: list[str] = []
    listen = lambda *a: sent.append(a[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listen)
    with db.transaction() as s:
        store.append(s, [_event(1), _event(2), _event(3)], entropy=os.urandom)
    event.remove(db.engine, "before_cursor_execute", listen)
    writes = [q for q in sent if q.split(None, 1)[0] in ("INSERT", "UPDATE", "WITH")]
    tables = ("ledger_nodes", "ledger_index_undo", "ledger_index_state")
    tables += ("ledger_index_buckets", "ledger_state", "ledger_heads")
    if db.engine.dialect.name == "postgresql":
        assert len(writes) == 2, writes
        assert writes[0].startswith("INSERT INTO ledger_entries")
        assert writes[1].startswith("WITH") and all(f" {name} " in writes[1] for name in tables)
    else:
        assert len(writes) == 1 + len(tables), writes
    report = store.verify(db, KEY.public_key().public_bytes_raw())
    assert report.ok, report.problem
    assert report.size == 4
    with db.read() as s:
        times = s.scalars(select(t.LedgerHead.created_at)).all()
    # SQLite gives the time back without its zone (SQLAlchemy stores it as UTC text)
    assert [when if when.tzinfo else when.replace(tzinfo=UTC) for when in times] == [T0, T0]
    db.dispose()


def test_a_nul_in_an_event_is_refused_alone_and_nothing_is_written(url: str) -> None:
    """On PostgreSQL the rows go in as one array a column; the input guard looks inside the
    arrays, so a NUL is refused as such (not as a driver error) and the batch around it is
    committed without it."""
    db = Database(make_engine(url))
    migrate(db.engine)
    store = _store()
    group = GroupCommit(db, store, entropy=os.urandom)
    group.append(_event(0))
    with pytest.raises(InvalidInput, match="NUL"):
        group.append(Event(Kind.VERIFIED, T0, operator="op", deployment="dep", subject="a\x00b"))
    group.append(_event(1))
    with db.read() as s:
        assert records.ledger_size(s) == 2
    assert store.verify(db, KEY.public_key().public_bytes_raw()).ok
    db.dispose()


CHILD = textwrap.dedent(
    """
    import os, sys, threading
    from datetime import UTC, datetime
    sys.path.insert(0, {src!r})
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from facegate.ledger.events import Event, Kind
    from facegate.ledger.group import GroupCommit
    from facegate.ledger.store import LedgerStore
    from facegate.storage.db import Database, make_engine
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    db = Database(make_engine({url!r}))
    store = LedgerStore(origin="test.facegate/ledger", signing_key=key, clock=lambda: t0)
    group = GroupCommit(db, store, entropy=os.urandom)
    out = threading.Lock()
    def client(c):
        n = 0
        while True:
            n += 1
            event = Event(Kind.VERIFIED, t0, operator="op", details={{"c": c, "n": n}})
            (rec,) = group.append(event)
            with out:
                os.write(1, f"ACK {{rec.event_id}}\\n".encode())
    for c in range(32):
        threading.Thread(target=client, args=(c,), daemon=True).start()
    threading.Event().wait()
    """
)


def test_kill_9_during_concurrent_appends_loses_no_acknowledged_one(url: str) -> None:
    db = Database(make_engine(url))
    migrate(db.engine)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(src=str(SRC), url=url)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    acked: list[str] = []
    assert child.stdout is not None
    for line in child.stdout:
        acked.append(line.decode().split()[1])
        if len(acked) >= 400:
            break
    os.kill(child.pid, signal.SIGKILL)  # mid-flight: other batches are committing
    rest, err = child.communicate(timeout=30)
    acked += [line.split()[1] for line in rest.decode().splitlines() if line.startswith("ACK ")]
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    with db.read() as s:
        stored = set(s.scalars(select(t.LedgerEntry.event_id)))
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged appends lost"
    report = _store().verify(db, KEY.public_key().public_bytes_raw())
    assert report.ok, report.problem
    assert report.size >= len(acked)
    db.dispose()
