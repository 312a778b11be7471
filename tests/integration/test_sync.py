"""Issue 15 item 1: several processes and hosts on one database behave as one service.

Two Gates on one PostgreSQL database, each with its own home (two hosts: the same master key
from the environment, the data keys in the database's key schema), or two Gates on one
SQLite home (two workers of one host). What one changes, the other sees: at once when it
searches (it catches up from the change feed first), and without any request within the
listener's poll period (woken by NOTIFY on PostgreSQL).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.errors import NotFound
from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.sync import feed
from facegate.sync.listen import FeedListener

Photo = Callable[[str], bytes]


def _two_hosts(tmp_path: Path, url: str | None, face_engine: FaceEngine) -> tuple[Gate, Gate]:
    """Host A makes the installation; host B opens it from its own home (PostgreSQL) or
    the same home (SQLite: two workers of one host)."""
    if url is None:
        a = Gate.open(settings=Settings(home=tmp_path / "a"), engine=face_engine, create=True)
        return a, Gate.open(settings=Settings(home=tmp_path / "a"), engine=face_engine)
    master = base64.b64encode(os.urandom(32)).decode()
    a = Gate.open(
        settings=Settings(home=tmp_path / "a", database_url=url, master_key=master),
        engine=face_engine,
        create=True,
    )
    (tmp_path / "b").mkdir(mode=0o700)
    b = Gate.open(
        settings=Settings(home=tmp_path / "b", database_url=url, master_key=master),
        engine=face_engine,
    )
    assert not (tmp_path / "a" / "keys.db").exists(), "data keys live in PostgreSQL"
    return a, b


@pytest.fixture(params=["sqlite", "postgres"])
def hosts(
    request: pytest.FixtureRequest, tmp_path: Path, face_engine: FaceEngine
) -> Iterator[tuple[Gate, Gate]]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    a, b = _two_hosts(tmp_path, url, face_engine)
    yield a, b
    b.close()
    a.close()


def _lobby(gate: Gate) -> str:
    return live(gate, location="office", alternative="staff badge").id


def _in_gallery(gate: Gate, dep: str) -> set[str]:
    gallery = gate.core.galleries.loaded(dep)
    return set() if gallery is None else set(gallery._subject_ids)


def test_enroll_on_one_identify_on_the_other_and_erase_back(
    hosts: tuple[Gate, Gate], photo: Photo
) -> None:
    a, b = hosts
    dep = _lobby(a)
    consent(a, dep, "obama")
    consent(a, dep, "biden")
    a.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    # B loads its gallery now: it must follow A's next enrollment, not reload
    assert b.identify(dep, photo("fixtures/obama2.jpg")).decision == "unknown"
    loaded = b.core.galleries.loaded(dep)
    a.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    who = b.identify(dep, photo("fixtures/obama2.jpg"))
    assert (who.decision, who.subject_ref, who.gallery_size) == ("match", "obama", 2)
    assert b.core.galleries.loaded(dep) is loaded, "applied from the feed, not reloaded"
    # erase through B: gone from A's gallery (A had it loaded)
    assert a.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "obama"
    b.erase(dep, "obama", reason="asked to")
    after = a.identify(dep, photo("fixtures/obama3.jpg"))
    assert after.decision == "unknown" and after.gallery_size == 1
    assert len(_in_gallery(a, dep)) == 1


def test_withdrawal_and_retention_reach_the_other_host(
    hosts: tuple[Gate, Gate], photo: Photo
) -> None:
    a, b = hosts
    dep = _lobby(a)
    for ref in ("obama", "biden"):
        consent(a, dep, ref)
    a.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    a.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    assert b.identify(dep, photo("fixtures/obama2.jpg")).subject_ref == "obama"
    a.withdraw_consent(dep, "obama")
    assert b.identify(dep, photo("fixtures/obama2.jpg")).decision == "unknown"
    # the retention sweep on A expires biden's template: B's gallery empties
    with a.db.transaction() as s:
        for row in s.query(t.Template):
            row.expires_at = row.created_at
    a.sweep_retention()
    b.core.caught_up()
    assert _in_gallery(b, dep) == set()


def test_a_key_revoked_on_one_host_is_refused_on_the_other(
    hosts: tuple[Gate, Gate], photo: Photo
) -> None:
    a, b = hosts
    dep = _lobby(a)
    consent(a, dep, "obama")
    a.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    assert b.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"
    assert b.identify(dep, photo("fixtures/obama2.jpg")).subject_ref == "obama"
    old = b.core.galleries.loaded(dep)
    assert old is not None
    a.revoke_deployment_key(dep, reason="template database copied")
    with pytest.raises(NotFound, match="no face enrolled"):
        b.verify(dep, "obama", photo("fixtures/obama2.jpg"))
    assert b.identify(dep, photo("fixtures/obama2.jpg")).decision == "unknown"
    assert len(old) == 0, "the old key's templates are gone from B's memory"
    # re-enrolled under the new key on B, found on A
    b.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    assert a.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "obama"


def _wait(condition: Callable[[], bool], what: str, *, limit: float = 20.0) -> None:
    """Wait for something another thread does (no figure is asserted: the bound is measured
    by bench/sync.py)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_the_listener_applies_changes_without_a_request_and_catches_up_a_missed_one(
    hosts: tuple[Gate, Gate], photo: Photo
) -> None:
    a, b = hosts
    dep = _lobby(a)
    for ref in ("obama", "biden", "kit"):
        consent(a, dep, ref)
    a.enroll(dep, "kit", photo("fixtures/knn/train/kit_harington/john1.jpeg"))
    b.identify(dep, photo("fixtures/obama2.jpg"))  # B has the gallery loaded
    # B's listener is down while A enrolls: the NOTIFY goes nowhere
    a.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    assert len(_in_gallery(b, dep)) == 1, "nothing applied B's change yet"
    listener = FeedListener(b.core.follower, b.db.engine, poll_s=0.2).start()  # type: ignore[arg-type]
    try:
        _wait(lambda: len(_in_gallery(b, dep)) == 2, "the missed change caught up")
        a.enroll(dep, "biden", photo("fixtures/biden.jpg"))
        _wait(lambda: len(_in_gallery(b, dep)) == 3, "the next change applied")
        a.erase(dep, "kit")
        _wait(lambda: len(_in_gallery(b, dep)) == 2, "the erasure applied")
        if b.db.engine.dialect.name == "postgresql":
            assert listener.notifications >= 1, "woken by NOTIFY"
    finally:
        listener.stop()


def test_feed_ids_follow_commit_order_under_concurrent_writers(pg_url: str, tmp_path: Path) -> None:
    """Eight writers commit feed rows while a follower reads: ids come out 1..N with no
    gap, and the follower sees each once, in order (a sequence could hand them out of order)."""
    gate = Gate.open(settings=Settings(home=tmp_path / "h", database_url=pg_url), create=True)
    seen: list[int] = []
    stop = threading.Event()

    def write(n: int) -> None:
        for i in range(25):
            with gate.db.transaction() as s:
                feed.templates_removed(s, f"dep_{n}", [f"tpl_{n}_{i}"])
                s.get(t.Operator, "nobody")  # some other work in the transaction
                if i % 5 == 0:
                    feed.subject_removed(s, f"dep_{n}", f"sub_{n}_{i}")

    def follow() -> None:
        last = 0
        while not stop.is_set() or last < 8 * 30:
            with gate.db.read() as s:
                ids = list(
                    s.scalars(
                        t.ChangeFeed.__table__.select()
                        .with_only_columns(t.ChangeFeed.id)
                        .where(t.ChangeFeed.id > last)
                        .order_by(t.ChangeFeed.id)
                    )
                )
            for i in ids:
                assert i == last + 1, f"feed id {i} after {last}: one was skipped"
                last = i
                seen.append(i)

    reader = threading.Thread(target=follow)
    reader.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join(timeout=60)
    gate.close()
    assert seen == list(range(1, 8 * 30 + 1))


def test_pruned_feed_reloads_the_galleries(sqlite_gate: Gate, photo: Photo) -> None:
    from datetime import timedelta

    from facegate.sync.follower import prune

    gate = sqlite_gate
    dep = _lobby(gate)
    consent(gate, dep, "obama")
    gate.identify(dep, photo("fixtures/obama2.jpg"))
    other = Gate.open(settings=gate.settings, engine=gate.core.engine_)
    try:
        other.identify(dep, photo("fixtures/obama2.jpg"))
        loaded = other.core.galleries.loaded(dep)
        gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
        gate.enroll(dep, "obama", photo("fixtures/obama3.jpg"))
        assert prune(gate.core, keep=timedelta(0), now=gate.core.clock() + timedelta(1)) == 1
        who = other.identify(dep, photo("fixtures/obama2.jpg"))
        assert who.subject_ref == "obama" and who.gallery_size == 2
        assert other.core.galleries.loaded(dep) is not loaded, "reloaded after the gap"
    finally:
        other.close()
