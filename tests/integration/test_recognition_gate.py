"""Recognition features through the Gate on real photos: detect every face, compare two
photos, top-N candidates, the enrollment quality gate, flagged mistakes and the threshold
report, unknown-face alerts. Each one is a decided, ledgered act that stores no photo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lawful import consent, live, refused
from recognition_support import attack, degraded, leaves_since, shared_pad, size

from facegate.config import Settings
from facegate.errors import Conflict, InvalidInput, NotFound, NotLive, PoorQuality
from facegate.gate import Gate
from facegate.recognition import FaceEngine

Photo = Callable[[str], bytes]


def test_detect_finds_every_face_with_box_score_and_landmarks(gate: Gate, photo: Photo) -> None:
    dep = live(gate).id
    before, counts = size(gate), gate.counts()
    result = gate.detect(dep, photo("in_the_wild/selfie-many-people.jpg"))
    assert len(result.faces) == 4 and result.detector
    areas = [(f.box.right - f.box.left) * (f.box.bottom - f.box.top) for f in result.faces]
    assert areas == sorted(areas, reverse=True)
    for face in result.faces:
        assert 0 <= face.box.left < face.box.right <= result.width
        assert 0 <= face.box.top < face.box.bottom <= result.height
        assert face.score >= 0 and 0.5 <= face.probability < 1
        assert len(face.landmarks) == 5
        assert all(face.box.left - 20 <= x <= face.box.right + 20 for x, _ in face.landmarks)
    (leaf,) = leaves_since(gate, before)
    assert leaf["kind"] == "detect" and leaf["details"]["faces_found"] == 4 and leaf["rules"]
    assert {k: v for k, v in gate.counts().items() if k != "ledger_entries"} == {
        k: v for k, v in counts.items() if k != "ledger_entries"
    }
    one = gate.detect(dep, photo("fixtures/obama.jpg"), landmarks=68, limit=1)
    assert len(one.faces) == 1 and len(one.faces[0].landmarks) == 68
    assert gate.detect(dep, photo("fixtures/obama.jpg"), landmarks=0).faces[0].landmarks == []
    with pytest.raises(InvalidInput):
        gate.detect(dep, photo("fixtures/obama.jpg"), landmarks=7)


def test_detect_is_a_search_a_verify_only_deployment_may_not_do(
    sqlite_gate: Gate, photo: Photo
) -> None:
    dep = live(sqlite_gate, capabilities=["verify"], capture=None).id
    refused(sqlite_gate, "CN-SPC-2", lambda: sqlite_gate.detect(dep, photo("fixtures/obama.jpg")))
    refused(
        sqlite_gate,
        "CN-SPC-2",
        lambda: sqlite_gate.compare(dep, photo("fixtures/obama.jpg"), photo("fixtures/obama2.jpg")),
    )


def test_compare_two_photos_stores_neither_and_ledgers_both_hashes(
    gate: Gate, photo: Photo
) -> None:
    dep = live(gate).id
    before = size(gate)
    same = gate.compare(dep, photo("fixtures/obama.jpg"), photo("fixtures/obama2.jpg"))
    other = gate.compare(dep, photo("fixtures/obama.jpg"), photo("fixtures/biden.jpg"))
    assert same.decision == "match" and same.score >= same.threshold
    assert other.decision == "no_match" and other.score < other.threshold
    assert gate.counts()["templates"] == 0
    first, _ = leaves_since(gate, before)
    assert first["kind"] == "compare" and first["details"]["decision"] == "match"
    assert first["details"]["input_sha256"] != first["details"]["target_sha256"]
    with pytest.raises(InvalidInput, match="target photo"):
        gate.compare(dep, photo("fixtures/obama.jpg"), photo("orl/s1/3.pgm"))  # no face


@pytest.fixture
def clocked(tmp_path: Path, face_engine: FaceEngine) -> Iterator[tuple[Gate, list[datetime]]]:
    now = [datetime(2027, 3, 1, 9, 0, tzinfo=UTC)]
    with Gate.open(
        settings=Settings(home=tmp_path / "home"),
        clock=lambda: now[0],
        engine=face_engine,
        create=True,
    ) as gate:
        yield gate, now


def test_top_n_names_only_candidates_above_the_threshold_with_consent_in_force(
    clocked: tuple[Gate, list[datetime]], photo: Photo
) -> None:
    gate, now = clocked
    dep = live(gate).id
    consent(gate, dep, "obama")
    consent(gate, dep, "obama-b", expires_at=now[0] + timedelta(days=10))
    consent(gate, dep, "biden")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "obama-b", photo("fixtures/obama3.jpg"))
    gate.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    before = size(gate)
    found = gate.identify(dep, photo("fixtures/obama2.jpg"), top=3)
    assert [c.subject_ref for c in found.candidates] == ["obama", "obama-b"]  # biden: below
    assert all(c.score >= found.threshold for c in found.candidates)
    assert found.candidates[0].score >= found.candidates[1].score
    kinds = [(leaf["kind"], leaf["details"]["decision"]) for leaf in leaves_since(gate, before)]
    assert kinds == [("identify", "match"), ("identify", "candidate")]
    assert gate.identify(dep, photo("fixtures/obama2.jpg")).candidates == found.candidates[:1]
    now[0] += timedelta(days=11)  # obama-b's consent has expired; the sweep has not run
    before = size(gate)
    later = gate.identify(dep, photo("fixtures/obama2.jpg"), top=3)
    assert [c.subject_ref for c in later.candidates] == ["obama"]
    denied = [leaf for leaf in leaves_since(gate, before) if leaf["kind"] == "policy.denied"]
    assert len(denied) == 1 and denied[0]["details"]["act"] == "identify"
    stranger = gate.identify(dep, photo("fixtures/knn/train/kit_harington/john1.jpeg"), top=3)
    assert (stranger.decision, stranger.candidates, stranger.score) == ("unknown", (), None)
    with pytest.raises(InvalidInput):
        gate.identify(dep, photo("fixtures/obama2.jpg"), top=11)


@pytest.mark.parametrize(
    ("how", "words"), [("blur", "blurred"), ("dark", "too dark"), ("bright", "overexposed")]
)
def test_the_quality_gate_refuses_bad_photos_with_the_reason(
    sqlite_gate: Gate, photo: Photo, how: str, words: str
) -> None:
    dep = live(sqlite_gate).id
    consent(sqlite_gate, dep, "obama")
    before = size(sqlite_gate)
    with pytest.raises(PoorQuality) as caught:
        sqlite_gate.enroll(dep, "obama", degraded(photo("fixtures/obama.jpg"), how))
    assert any(words in reason for reason in caught.value.reasons), caught.value.reasons
    assert caught.value.to_dict()["reasons"] and caught.value.code == "poor_quality"
    assert sqlite_gate.counts()["templates"] == 0 and size(sqlite_gate) == before
    assert sqlite_gate.enroll(dep, "obama", photo("fixtures/obama.jpg")).template_id


def test_the_quality_gate_refuses_a_turned_head(sqlite_gate: Gate, photo: Photo) -> None:
    dep = live(sqlite_gate).id
    consent(sqlite_gate, dep, "ben")
    turned = "celebrities/ben_afflek/httpssmediacacheakpinimgcomxedaedabcbefbcbabbjpg.jpg"
    with pytest.raises(PoorQuality, match="turned"):
        sqlite_gate.enroll(dep, "ben", photo(turned))
    assert sqlite_gate.enroll(dep, "ben", photo("celebrities/ben_afflek/ben.jpg")).template_id


def test_flags_feed_the_threshold_report(gate: Gate, photo: Photo) -> None:
    dep = live(gate).id
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    match = gate.verify(dep, "obama", photo("fixtures/obama2.jpg"))
    miss = gate.verify(dep, "obama", photo("fixtures/biden.jpg"))
    unknown = gate.identify(dep, photo("fixtures/biden.jpg"))
    with pytest.raises(InvalidInput):
        gate.flag_match(match.event_id, "false_reject")  # a match is not a false reject
    flagged = gate.flag_match(match.event_id, "false_accept", note="it was his brother")
    assert flagged.flagged_event_id == match.event_id and flagged.deployment_id == dep
    (leaf,) = leaves_since(gate, size(gate) - 1)
    assert leaf["kind"] == "match.flagged" and "note_sha256" in leaf["details"]
    assert "brother" not in str(leaf)
    gate.flag_match(unknown.event_id, "false_reject")
    with pytest.raises(Conflict):
        gate.flag_match(match.event_id, "false_accept")
    with pytest.raises(NotFound):
        gate.flag_match("evt_nope", "false_accept")
    report = gate.threshold_report(dep)
    (row,) = report.rows
    assert (row.threshold, row.accepts, row.rejects) == (match.threshold, 1, 2)
    assert (row.false_accepts, row.false_rejects) == (1, 1) and report.flags == 2
    assert (row.false_accept_share, row.false_reject_share) == (1.0, 0.5)
    assert miss.decision == "no_match"


def test_unknown_faces_raise_alerts_only_where_the_deployment_asks(
    sqlite_gate: Gate, photo: Photo
) -> None:
    gate = sqlite_gate
    quiet, watching = live(gate).id, live(gate, unknown_alerts=True).id
    assert gate.get_deployment(watching).unknown_alerts
    for dep in (quiet, watching):
        consent(gate, dep, "obama")
        gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
        gate.identify(dep, photo("fixtures/obama2.jpg"))  # a match: no alert
    before = size(gate)
    stranger = gate.identify(watching, photo("fixtures/biden.jpg"))
    (alert,) = gate.alerts(watching)
    assert alert.identify_event_id == stranger.event_id and len(alert.input_sha256) == 64
    kinds = [leaf["kind"] for leaf in leaves_since(gate, before)]
    assert kinds == ["identify", "alert.unknown_face"]
    assert set(leaves_since(gate, before)[1]["details"]) == {"input_sha256", "identify_event_id"}
    gate.identify(quiet, photo("fixtures/biden.jpg"))
    assert gate.alerts(quiet) == []
    assert gate.alerts(watching, since=alert.at) == []


def test_evidence_bundles_verify_with_the_new_events(sqlite_gate: Gate, photo: Photo) -> None:
    from facegate.ledger.evidence_verify import verify_bundle

    gate = shared_pad(sqlite_gate)
    dep = live(gate, liveness=True, unknown_alerts=True).id
    receipt = consent(gate, dep, "obama")
    with pytest.raises(NotLive):
        gate.enroll(dep, "obama", attack("image_F2.jpg"))
    first = gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    gate.detect(dep, photo("in_the_wild/couple.jpg"))
    gate.compare(dep, photo("fixtures/obama.jpg"), photo("fixtures/obama2.jpg"))
    gate.flag_match(gate.identify(dep, photo("fixtures/biden.jpg")).event_id, "false_reject")
    (gone,) = gate.delete_faces(dep, template_id=first.template_id)
    assert gone.subject_ref == "obama" and gate.counts()["templates"] == 0
    gate.enroll(dep, "obama", photo("fixtures/obama3.jpg"))  # the person and consent stayed
    verdict = verify_bundle(gate.export_evidence(deployment_id=dep), log_key=gate.ledger_key())
    kinds = {e.kind for e in verdict.events}
    assert {"liveness.failed", "detect", "compare", "match.flagged", "alert.unknown_face"} <= kinds
    assert "template.deleted" in kinds and verdict.lawful
    pseudonym = str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    own = verify_bundle(
        gate.export_evidence(pseudonym=pseudonym, receipts=[receipt.receipt]),
        log_key=gate.ledger_key(),
    )
    assert own.lawful and [e.kind for e in own.events][-2:] == ["template.deleted", "enroll"]
    assert not [f for f in own.findings if f.severity != "note"], own.findings
