"""Threshold encrypted verification: two of three key holders decide, one alone opens nothing."""

from __future__ import annotations

import dataclasses
import itertools
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

from facegate.errors import InvalidInput, InvalidTemplate
from facegate.templates.he.threshold import (
    MODULUS,
    POSITIONS,
    QUANT,
    DecisionRequest,
    DecisionView,
    HolderShare,
    KeyHolder,
    ThresholdDecisionHolder,
    ThresholdDevice,
    ThresholdSetup,
    ThresholdVerifier,
    openfhe_python,
    threshold_available,
)

if not threshold_available():
    pytest.skip("OpenFHE's interpreter is missing (make install makes it)", allow_module_level=True)

from facegate.evaluation import he_mode

ATTACK = Path(he_mode.__file__).with_name("_openfhe_attack.py")


@pytest.fixture(scope="module")
def setup() -> ThresholdSetup:
    return ThresholdSetup.ceremony()


@pytest.fixture(scope="module")
def parties(setup: ThresholdSetup):  # type: ignore[no-untyped-def]
    device = ThresholdDevice(setup.public)
    server = ThresholdVerifier(setup.public, threshold=0.6)
    holders = [KeyHolder(setup.public, share, server=server.verify_key) for share in setup.shares]
    return device, server, holders, ThresholdDecisionHolder(setup.public)


def _steal(setup: ThresholdSetup, holders: int, ciphertext: bytes) -> np.ndarray | str:
    """Decrypt in OpenFHE with the key shares of the first ``holders`` holders, no checks."""
    shares: dict[int, bytes] = {}
    for share in setup.shares[:holders]:
        shares.update(share.shares)
    python = openfhe_python()
    assert python is not None
    run = subprocess.run(
        [python, str(ATTACK)],
        input=pickle.dumps((setup.public.context, shares, ciphertext), protocol=4),
        capture_output=True,
        check=True,
    )
    opened = pickle.loads(run.stdout)
    return opened if isinstance(opened, str) else np.asarray(opened) / QUANT


def test_two_of_three_holders_give_the_clear_decisions(he_embeddings, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    x = he_embeddings
    cipher = [device.encrypt(v) for v in x]
    pairs_of_holders = itertools.cycle([(0, 1), (1, 2), (2, 0)])
    accepted = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        clear = float(np.linalg.norm(x[i] - x[j])) <= 0.6
        a, b = next(pairs_of_holders)
        request = server.decision_request(cipher[i], cipher[j])
        assert decider.decide(request, [holders[a], holders[b]], server) == clear, (i, j)
        accepted += clear
    assert 0 < accepted < 55  # both outcomes occur among the 55 pairs


def test_one_holder_opens_nothing_and_two_open_everything(embed, setup, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    truth = embed("obama.jpg")
    template = device.encrypt(truth)
    # each holder alone, with both its key shares, decrypts a stored template to nothing
    for k in range(3):
        rotated = ThresholdSetup(setup.public, setup.shares[k:] + setup.shares[:k])
        opened = _steal(rotated, 1, template)
        assert isinstance(opened, str) or np.linalg.norm(opened - truth) > 0.6
    # the same attack with two holders' shares rebuilds it: the negative above is not vacuous
    opened = _steal(setup, 2, template)
    assert not isinstance(opened, str)
    assert np.abs(opened - truth).max() <= 0.5 / QUANT  # exact, but for the 2^-10 rounding
    # the service asks for two holders and says which
    request = server.decision_request(template, device.encrypt(embed("obama2.jpg")))
    with pytest.raises(InvalidInput, match="two of the three key holders"):
        decider.decide(request, holders[:1], server)
    # and what the server and devices hold carries no key share
    public = b"".join(
        (
            setup.public.context,
            setup.public.public_key,
            setup.public.eval_mult,
            setup.public.eval_sum,
        )
    )
    for share in setup.shares:
        for blob in share.shares.values():
            assert blob[-64:] not in public


def test_the_decision_holder_never_sees_a_score(embed, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    a, b = embed("obama.jpg"), embed("obama2.jpg")
    ca, cb = device.encrypt(a), device.encrypt(b)
    # all it learns of a request: the blinded margin and one bit
    assert [f.name for f in dataclasses.fields(DecisionView)] == ["blinded", "found_zero"]
    seen = []
    for _ in range(16):
        request = server.decision_request(ca, cb)
        view = decider.views(request, holders[:2], server)[0]
        assert server.conclude(request.ticket, 0, view.found_zero) is True
        seen.append(view.blinded)
    # the same pair sixteen times: the blinded margins are uniform on [0, t), not one value
    # (all sixteen inside a quarter of the range: about once in 10^8)
    assert len(set(seen)) == 16 and all(0 <= w < MODULUS for w in seen)
    assert max(seen) - min(seen) > MODULUS // 4
    # the bit it sees is the decision (or, when the window wraps around t, about once in
    # 3·10^6 requests, its negation): it is never "unknown"
    assert not any(isinstance(w, float) for w in seen)


def test_each_request_is_compared_once(embed, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    ca, cb = device.encrypt(embed("obama.jpg")), device.encrypt(embed("biden.jpg"))
    request = server.decision_request(ca, cb)
    # malformed bits are refused before any answer, and change nothing
    with pytest.raises(InvalidInput, match="41 encrypted bits"):
        server.compare(request.ticket, 0, [b"x"], b"")
    assert decider.decide(request, holders[1:], server) is False
    # asking again under the same ticket (to search the offset) is refused
    with pytest.raises(InvalidInput, match="no decision request awaits this ticket"):
        decider.decide(request, holders[1:], server)
    with pytest.raises(InvalidInput, match="no comparison awaits this ticket"):
        server.conclude(request.ticket, 0, True)


def test_a_block_of_templates_is_met_in_one_comparison(he_embeddings, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    x = he_embeddings
    block = None
    for position, v in enumerate(x):
        block = server.pack(block, device.encrypt(v), position)
    # a device that skips the embedding check and fills its whole ciphertext with huge values:
    # packed at its own position, it cannot reach its neighbours' templates
    rng = np.random.default_rng(3)
    junk = device._party.call(
        "encrypt", values=[int(v) for v in rng.integers(-(2**38), 2**38, 128)]
    )
    block = server.pack(block, junk, len(x))
    assert block is not None
    for probe in (0, 4):
        request = server.decision_request(device.encrypt(x[probe]), block, range(len(x) + 1))
        decided = decider.decide_all(request, holders[1:], server)
        clear = [float(np.linalg.norm(x[probe] - v)) <= 0.6 for v in x]
        assert [decided[p] for p in range(len(x))] == clear
        assert decided[len(x)] is False
    # a block sent as a request is refused, and positions must exist
    with pytest.raises(InvalidInput, match="the server signed"):
        decider.decide(DecisionRequest(block, "t"), holders[1:], server)
    with pytest.raises(InvalidInput, match="block position"):
        server.pack(block, device.encrypt(x[0]), POSITIONS)
    with pytest.raises(InvalidInput, match="block positions"):
        server.decision_request(device.encrypt(x[0]), block, [POSITIONS])
    with pytest.raises(InvalidInput, match="decide_all"):
        decider.decide(
            server.decision_request(device.encrypt(x[0]), block, [0, 1]), holders[1:], server
        )


def test_holders_decrypt_decision_requests_only(embed, setup, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    template = device.encrypt(embed("biden.jpg"))
    probe = device.encrypt(embed("obama.jpg"))
    request = server.decision_request(probe, template)
    # key holders decrypt what the server signed, and nothing else: a stored template relayed
    # as a request, or a signed request with its ciphertext, ticket or positions changed
    forged = [
        DecisionRequest(template, "t"),
        DecisionRequest(template, request.ticket, (0,), request.signature),
        DecisionRequest(request.ciphertext, "other", (0,), request.signature),
        DecisionRequest(request.ciphertext, request.ticket, (0, 1), request.signature),
    ]
    for bad_request in forged:
        with pytest.raises(InvalidInput, match="the server signed"):
            decider.decide_all(bad_request, holders[1:], server)
    # and the decision holder itself reads nothing beyond a request's positions: a template
    # decrypted by key holders that do not check is refused
    shares = {i: h for h in holders[1:] for i in h.indices}
    partials = [
        bytes(p)
        for i in range(3)
        for p in shares[i]._party.call("partials", request=template, shares=[i], lead=i == 0)
    ]
    with pytest.raises(InvalidInput, match="not a decision request"):
        decider.fuse(partials, (0,))
    for bad in (b"junk", template[: len(template) // 2]):
        with pytest.raises(InvalidInput, match="not an OpenFHE ciphertext"):
            server.decision_request(probe, bad)
    with pytest.raises(InvalidInput):
        device.encrypt(np.zeros(128))  # not an embedding
    with pytest.raises(InvalidInput, match="verify key"):
        KeyHolder(setup.public, setup.shares[0], server=b"short")
    assert decider.decide(request, holders[1:], server) is False


def test_a_party_whose_process_ends_carries_on(embed, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    a, b = device.encrypt(embed("obama.jpg")), device.encrypt(embed("obama2.jpg"))
    for party in (server, holders[0], decider):
        proc = party._party._proc
        assert proc is not None
        os.kill(proc.pid, 9)
        proc.wait()
    # the next call starts each again with the same material
    assert decider.decide(server.decision_request(a, b), holders[:2], server) is True


def test_a_holder_share_opens_only_under_its_own_key(setup: ThresholdSetup) -> None:
    share = setup.shares[2]
    sealed = share.seal(bytes(range(32)))
    assert HolderShare.open(sealed, bytes(range(32))) == share
    with pytest.raises(InvalidTemplate):
        HolderShare.open(sealed, bytes(32))


def test_the_bench_reports_the_mode_by_attacker(he_comparisons) -> None:  # type: ignore[no-untyped-def]
    data, raw = he_comparisons
    figures = he_mode.threshold_mode_figures(data, raw, pairs=6, rows=1000)
    assert figures["decision_agreement"] == 1.0
    assert figures["attack_acceptance"] == {
        "db": 0.0,
        "db+keystore": 0.0,
        "db+keystore+one_share": 0.0,
        "everything": 1.0,
    }
    assert figures["template_bytes"] > 0 and figures["decision_ms"] > 0
    assert figures["out_of_range_probes"]["accepted"] == 0
    block = figures["block"]
    assert block["decisions_equal_clear"] == 1.0 and 0 < block["templates"] <= POSITIONS
    assert block["bytes_per_template"] * block["templates"] == block["block_bytes"]


def test_a_device_that_encrypts_out_of_range_values_is_never_accepted(embed, parties) -> None:  # type: ignore[no-untyped-def]
    device, server, holders, decider = parties
    template = device.encrypt(embed("obama.jpg"))
    rng = np.random.default_rng(5)
    for scale in (2**12, 2**20, 2**39) * 4:
        # a device that skips the embedding check: from 2^20 up its margin wraps around the
        # modulus, and lands in the accept window (2^18.5 of 2^40) about once in 3·10^6
        values = [int(v) for v in rng.integers(-scale, scale, 128)]
        crafted = device._party.call("encrypt", values=values)
        request = server.decision_request(crafted, template)
        assert decider.decide(request, holders[:2], server) is False, scale
