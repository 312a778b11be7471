"""Liveness wired into enroll and verify through the Gate: the authors' attack samples are
refused on a liveness deployment (a ledgered refusal, nothing stored), live shared photos
pass, and an active challenge (blink, turn) answered with real frames is used once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lawful import consent, live
from recognition_support import attack, leaves_since, shared_pad, size

from facegate.errors import ChallengeInvalid, InvalidInput, NotLive, PolicyDenied
from facegate.gate import Gate

Photo = Callable[[str], bytes]


@pytest.mark.parametrize("sample", ["image_F1.jpg", "image_F2.jpg"])
def test_attack_samples_are_refused_ledgered_and_not_stored(
    gate: Gate, photo: Photo, sample: str
) -> None:
    shared_pad(gate)
    dep = live(gate, liveness=True).id
    consent(gate, dep, "alice")
    before, templates = size(gate), gate.counts()["templates"]
    with pytest.raises(NotLive) as caught:
        gate.enroll(dep, "alice", attack(sample))
    assert caught.value.code == "liveness_failed" and caught.value.advice
    assert "score" not in caught.value.to_dict()  # no oracle for someone tuning a print
    assert gate.counts()["templates"] == templates
    (leaf,) = leaves_since(gate, before)
    assert leaf["kind"] == "liveness.failed" and leaf["deployment"] == dep
    d = leaf["details"]
    assert d["act"] == "enroll" and d["score"] < d["threshold"] == 0.5
    assert len(d["input_sha256"]) == 64 and set(d) == {
        "act", "input_sha256", "score", "threshold", "context", "model_version",
    }  # fmt: skip
    # and a verification with the attack is refused the same way, before any comparison
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    before = size(gate)
    with pytest.raises(NotLive):
        gate.verify(dep, "alice", attack(sample))
    assert [leaf["kind"] for leaf in leaves_since(gate, before)] == ["liveness.failed"]


def test_live_shared_photos_pass_and_the_event_says_so(sqlite_gate: Gate, photo: Photo) -> None:
    gate = shared_pad(sqlite_gate)
    dep = live(gate, liveness=True).id
    consent(gate, dep, "obama")
    before = size(gate)
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    assert gate.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"
    enrolled, verified = leaves_since(gate, before)
    for leaf in (enrolled, verified):
        assert leaf["details"]["liveness"]["score"] >= 0.5
    assert enrolled["details"]["quality"]["face_px"] >= 60


def test_a_deployment_without_liveness_does_not_run_it(sqlite_gate: Gate) -> None:
    gate = shared_pad(sqlite_gate)
    dep = live(gate).id
    consent(gate, dep, "alice")
    before = size(gate)
    gate.enroll(dep, "alice", attack("image_T1.jpg"))
    (leaf,) = leaves_since(gate, before)
    assert "liveness" not in leaf["details"]


def test_a_greyscale_scan_is_refused_with_step_back_advice(sqlite_gate: Gate, photo: Photo) -> None:
    gate = shared_pad(sqlite_gate)
    dep = live(gate, liveness=True).id
    consent(gate, dep, "s4")
    with pytest.raises(NotLive) as caught:
        gate.enroll(dep, "s4", photo("orl/s4/1.pgm"))  # the face fills the frame
    assert "Step back" in caught.value.advice


# --- active challenges ------------------------------------------------------------------------

BLINK = [
    "faces94/vstros/vstros.1.jpg",
    "faces94/vstros/vstros.2.jpg",
    "faces94/vstros/vstros.8.jpg",
]
TURN_LEFT = ["orl/s4/1.pgm", "orl/s4/10.pgm"]


def test_a_blink_challenge_then_enroll_with_one_of_its_frames(gate: Gate, photo: Photo) -> None:
    dep = live(gate, liveness_challenge=True).id
    consent(gate, dep, "vstros")
    frames = [photo(p) for p in BLINK]
    # the deployment asks for a challenge: without one, nothing is even decoded
    with pytest.raises(ChallengeInvalid):
        gate.enroll(dep, "vstros", frames[0])
    issued = gate.liveness_challenge(dep, "vstros", act="enroll", challenge="blink")
    before = size(gate)
    answer = gate.answer_challenge(dep, issued.challenge_id, frames)
    assert answer.passed, answer.reason
    (leaf,) = leaves_since(gate, before)
    assert leaf["kind"] == "liveness.challenge" and leaf["details"]["passed"] is True
    assert leaf["rules"], "the law was asked before the frames were read"
    # a photo that is not one of the frames is refused; one of them is accepted, once
    with pytest.raises(ChallengeInvalid, match="not one of the frames"):
        gate.enroll(
            dep, "vstros", photo("faces94/vstros/vstros.3.jpg"), challenge_id=issued.challenge_id
        )
    result = gate.enroll(dep, "vstros", frames[0], challenge_id=issued.challenge_id)
    assert result.template_id
    with pytest.raises(ChallengeInvalid, match="already used"):
        gate.enroll(dep, "vstros", frames[2], challenge_id=issued.challenge_id)


def test_frames_without_a_blink_fail_and_the_challenge_is_spent(
    sqlite_gate: Gate, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = live(gate, liveness_challenge=True).id
    consent(gate, dep, "vstros")
    issued = gate.liveness_challenge(dep, "vstros", act="enroll", challenge="blink")
    open_eyes = [photo("faces94/vstros/vstros.1.jpg"), photo("faces94/vstros/vstros.8.jpg")]
    answer = gate.answer_challenge(dep, issued.challenge_id, open_eyes)
    assert not answer.passed and "blink" in answer.reason
    with pytest.raises(ChallengeInvalid):
        gate.answer_challenge(dep, issued.challenge_id, open_eyes)
    with pytest.raises(ChallengeInvalid, match="not passed"):
        gate.enroll(dep, "vstros", open_eyes[0], challenge_id=issued.challenge_id)


def test_a_turn_challenge_knows_left_from_right(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    dep = live(gate, liveness_challenge=True).id
    consent(gate, dep, "s4")
    frames = [photo(p) for p in TURN_LEFT]
    left = gate.liveness_challenge(dep, "s4", act="verify", challenge="turn_left")
    assert gate.answer_challenge(dep, left.challenge_id, frames).passed
    right = gate.liveness_challenge(dep, "s4", act="verify", challenge="turn_right")
    assert not gate.answer_challenge(dep, right.challenge_id, frames).passed
    mirrored = gate.liveness_challenge(dep, "s4", act="verify", challenge="turn_right")
    assert gate.answer_challenge(dep, mirrored.challenge_id, frames, mirrored=True).passed
    # a challenge issued for verification does not serve an enrollment
    with pytest.raises(ChallengeInvalid, match="another person or act"):
        gate.enroll(dep, "s4", frames[0], challenge_id=left.challenge_id)


def test_challenges_are_refused_where_the_law_refuses_the_act(
    sqlite_gate: Gate, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = live(gate, liveness_challenge=True).id
    with pytest.raises(Exception, match="no consent"):
        gate.liveness_challenge(dep, "stranger", act="enroll")
    consent(gate, dep, "vstros")
    issued = gate.liveness_challenge(dep, "vstros", act="enroll")
    assert issued.challenge in ("blink", "turn_left", "turn_right") and issued.instructions
    gate.withdraw_consent(dep, "vstros")  # erases the person, and the challenge with them
    with pytest.raises(ChallengeInvalid):
        gate.answer_challenge(dep, issued.challenge_id, [photo(p) for p in BLINK])
    consent(gate, dep, "vstros")
    with pytest.raises(InvalidInput):
        gate.liveness_challenge(dep, "vstros", act="identify")
    gate.change_deployment(dep, capabilities=["identify"])  # a draft until the DPO signs
    issued = gate.liveness_challenge(dep, "vstros", act="enroll")
    with pytest.raises(PolicyDenied):
        gate.answer_challenge(dep, issued.challenge_id, [photo(p) for p in BLINK])
