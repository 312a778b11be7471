"""The regulator's witness: c2sp.org/tlog-witness over HTTP, its mirror, and its findings."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from regulator_support import Clock, FakeLog, new_regulator, push_fake

from facegate.ledger.checkpoint import CosignatureVerifier, Signer, verify_cosignatures
from facegate.ledger.head_lines import head_extensions
from facegate.regulator import index
from facegate.regulator.app import create_regulator_app
from facegate.regulator.common import WitnessRefused
from facegate.regulator.node import Regulator
from facegate.regulator.protocol import render_add_checkpoint


@pytest.fixture(params=["sqlite", "postgres"])
def reg(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Regulator]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    regulator, _ = new_regulator(tmp_path / "reg", clock=Clock(), database_url=url)
    with regulator:
        yield regulator


@pytest.fixture
def log(reg: Regulator) -> FakeLog:
    fake = FakeLog()
    reg.approve(fake.origin, vkey=fake.vkey)
    for i in range(5):
        fake.add("consent.given", deployment="dep_1", subject=f"p{i}")
    return fake


def _post(client: TestClient, body: bytes) -> tuple[int, str, str]:
    r = client.post("/add-checkpoint", content=body)
    return r.status_code, r.headers.get("content-type", ""), r.text


def test_cosigns_and_speaks_the_protocol_byte_for_byte(reg: Regulator, log: FakeLog) -> None:
    with TestClient(create_regulator_app(reg)) as client:
        reg.stage_entries(log.origin, 0, log.leaves)
        status, ctype, text = _post(client, log.body(0))
        assert status == 200 and ctype.startswith("text/plain")
        assert text.startswith("— reg.test/w ") and text.endswith("\n") and text.count("\n") == 1
        (cosig,) = verify_cosignatures(
            log.note() + text, [CosignatureVerifier.from_key(reg.witness_key)]
        )
        assert cosig.timestamp == int(reg.core.now().timestamp())
        # A conflict answers with the witness's size as text/x.tlog.size.
        log.add("consent.given", deployment="dep_1", subject="p9")
        status, ctype, text = _post(client, log.body(0))
        assert (status, ctype, text) == (409, "text/x.tlog.size", "5\n")
        reg.stage_entries(log.origin, 5, log.leaves[5:])
        assert _post(client, log.body(5))[0] == 200
        assert reg.log(log.origin).size == 6
        # The same checkpoint again (old = size) is cosigned afresh: freshness without growth.
        assert _post(client, log.body(6))[0] == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old 0\nnot a checkpoint", 400),
        (b"old 01\n\nlog.test/ledger\n1\nAAAA\n\n\xe2\x80\x94 x AAAA\n", 400),
        (b"", 400),
        (b"\xff\xfe", 400),
    ],
)
def test_malformed_requests_are_400(reg: Regulator, log: FakeLog, body: bytes, status: int) -> None:
    with TestClient(create_regulator_app(reg)) as client:
        assert client.post("/add-checkpoint", content=body).status_code == status
    assert reg.log(log.origin).size == 0


def test_refusals_follow_the_specification(reg: Regulator, log: FakeLog) -> None:
    with TestClient(create_regulator_app(reg)) as client:
        reg.stage_entries(log.origin, 0, log.leaves)
        assert _post(client, log.body(0, 3))[0] == 200
        # unknown origin: 404; a registration still pending: 404
        other = FakeLog(origin="other.test/ledger")
        other.add("operator.created")
        assert _post(client, other.body(0))[0] == 404
        # no signature by the registered key: 403
        forged = Signer.from_seed(log.origin, b"\x07" * 32)
        cp_text = log.note(5).split("\n\n")[0] + "\n"
        note = cp_text + "\n" + forged.sign(cp_text).line()
        assert _post(client, render_add_checkpoint(3, log.proof(3, 5), note))[0] == 403
        # old size above the checkpoint's size: 400
        assert _post(client, render_add_checkpoint(5, [], log.note(3)))[0] == 400
        # a proof that does not verify: 422
        bad = [bytes(32)] * len(log.proof(3, 5))
        assert _post(client, render_add_checkpoint(3, bad, log.note(5)))[0] == 422
        # 64 proof lines, or a proof from size 0: 400
        assert _post(client, render_add_checkpoint(3, [bytes(32)] * 64, log.note(5)))[0] == 400
        assert _post(client, render_add_checkpoint(0, [bytes(32)], log.note(5)))[0] == 400
    assert reg.log(log.origin).size == 3
    assert [f.rule for f in reg.findings(log.origin)] == ["fork"]  # the failed proof


def test_a_rewritten_history_is_a_fork_with_evidence(reg: Regulator, log: FakeLog) -> None:
    push_fake(reg, log, 0)
    rewritten = FakeLog()
    for i in range(5):
        rewritten.add("consent.given", deployment="dep_1", subject=f"x{i}")
    with pytest.raises(WitnessRefused) as same_size:
        reg.add_checkpoint(rewritten.body(5))
    assert (same_size.value.status, same_size.value.size) == (409, 5)
    rewritten.add("enroll", deployment="dep_1", subject="x0")
    reg.stage_entries(log.origin, 5, rewritten.leaves[5:])
    with pytest.raises(WitnessRefused) as longer:
        reg.add_checkpoint(rewritten.body(5))
    assert longer.value.status == 422
    # One finding about the history cosigned at size 5, seen twice; its evidence holds both
    # heads of size 5, each signed by the log: two roots for one size, checkable by anyone.
    (fork,) = reg.findings(log.origin)
    assert (fork.rule, fork.severity, fork.count) == ("fork", "alarm", 2)
    assert log.note() in fork.evidence and rewritten.note(5) in fork.evidence
    assert reg.log(log.origin).size == 5


def test_a_rollback_is_refused_and_recorded(reg: Regulator, log: FakeLog) -> None:
    push_fake(reg, log, 0)
    with pytest.raises(WitnessRefused) as refused:
        reg.add_checkpoint(log.body(3, 3))
    assert (refused.value.status, refused.value.size) == (409, 5)
    (finding,) = reg.findings(log.origin)
    assert finding.rule == "rollback" and "size 5 became 3" in finding.message


def test_a_withheld_entry_is_refused_until_mirrored(reg: Regulator, log: FakeLog) -> None:
    reg.stage_entries(log.origin, 0, log.leaves[:2])
    reg.stage_entries(log.origin, 3, log.leaves[3:])
    with pytest.raises(WitnessRefused) as refused:
        reg.add_checkpoint(log.body(0))
    assert refused.value.status == 422 and "entry 2" in refused.value.message
    (finding,) = reg.findings(log.origin, open_only=True)
    assert finding.rule == "withheld" and reg.log(log.origin).size == 0
    reg.stage_entries(log.origin, 2, log.leaves[2:3])
    reg.add_checkpoint(log.body(0))
    assert reg.log(log.origin).size == 5 and reg.findings(log.origin, open_only=True) == []


def test_a_substituted_entry_or_a_wrong_index_root_is_refused(reg: Regulator, log: FakeLog) -> None:
    altered = [*log.leaves]
    altered[1] = altered[1].replace(b'"p1"', b'"zz"')
    reg.stage_entries(log.origin, 0, altered)
    with pytest.raises(WitnessRefused) as substituted:
        reg.add_checkpoint(log.body(0))
    assert substituted.value.status == 422
    reg.stage_entries(log.origin, 0, log.leaves)
    # The log commits to an index other than the one its entries give (an entry filed under
    # no key, say): the regulator rebuilds it from the entries and refuses.
    wrong = head_extensions(index_root=log.index_root(4), prev=0)
    with pytest.raises(WitnessRefused) as indexed:
        reg.add_checkpoint(log.body(0, extensions=wrong))
    assert indexed.value.status == 422 and "index rebuilt" in indexed.value.message
    rules = sorted(f.rule for f in reg.findings(log.origin))
    assert rules == ["entries_mismatch", "index_mismatch"]
    assert reg.log(log.origin).size == 0
    # The right root is cosigned; afterwards a head may not drop the index line.
    reg.add_checkpoint(log.body(0))
    log.add("consent.given", deployment="dep_1", subject="p5")
    reg.stage_entries(log.origin, 5, log.leaves[5:])
    with pytest.raises(WitnessRefused, match="drops"):
        reg.add_checkpoint(render_add_checkpoint(5, log.proof(5), log.note(index=False)))
    index.forget()  # a restarted regulator rebuilds the index from its mirror
    assert reg.add_checkpoint(log.body(5)).size == 6


def test_mirrored_entries_never_change(reg: Regulator, log: FakeLog) -> None:
    push_fake(reg, log, 0)
    reg.stage_entries(log.origin, 0, log.leaves[:2])  # the same bytes: fine
    from facegate.errors import Conflict

    with pytest.raises(Conflict):
        reg.stage_entries(log.origin, 1, [b'{"other": 1}'])
    assert [f.rule for f in reg.findings(log.origin)] == ["fork"]


def test_the_size_check_and_the_save_are_atomic(reg: Regulator, log: FakeLog) -> None:
    """Two requests from one old size, both past the checks before either saves: exactly one
    may move the size (c2sp.org/tlog-witness, the race it describes)."""
    push_fake(reg, log, 0)
    for i in range(4):
        log.add("consent.given", deployment="dep_1", subject=f"q{i}")
    reg.stage_entries(log.origin, 5, log.leaves[5:])
    bodies = [log.body(5, 7), log.body(5, 9)]
    barrier = threading.Barrier(2, timeout=10)
    reg.core.before_save = barrier.wait
    outcomes: list[object] = [None, None]

    def submit(i: int) -> None:
        try:
            outcomes[i] = reg.add_checkpoint(bodies[i]).size
        except WitnessRefused as err:
            outcomes[i] = (err.status, err.size)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    reg.core.before_save = None
    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, tuple)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0] == (409, winners[0])
    assert reg.log(log.origin).size == winners[0]


def test_entries_route_needs_the_log_signature(reg: Regulator, log: FakeLog) -> None:
    with TestClient(create_regulator_app(reg)) as client:
        doc = {"start": 0, "entries": [base64.b64encode(e).decode() for e in log.leaves]}
        assert client.post("/v1/mirror/entries", json=doc).status_code == 401
        headers = {"X-Facegate-Origin": log.origin, "X-Facegate-Link": "1 AAAA"}
        assert client.post("/v1/mirror/entries", json=doc, headers=headers).status_code == 401
