"""The whole lawful lifecycle on real photos, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lawful import consent, draft, live

from facegate.errors import NotFound, PolicyDenied
from facegate.gate import Gate
from facegate.recognition import decode_image
from facegate.storage import tables
from facegate.templates import get_scheme

Photo = Callable[[str], bytes]


def _deployment(gate: Gate, name: str = "Lobby") -> str:
    return live(
        gate,
        name=name,
        purpose="Staff pass the lobby turnstile by face instead of a badge",
        location="office",
        alternative="staff badge at the desk",
    ).id


def test_enroll_verify_identify_withdraw(gate: Gate, photo: Photo) -> None:
    dep = _deployment(gate)
    notice = gate.notice(dep)
    for ref in ("obama", "biden", "kit"):
        consent(gate, dep, ref, notice_version=notice.version)
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    gate.enroll(dep, "kit", photo("fixtures/knn/train/kit_harington/john1.jpeg"))

    same = gate.verify(dep, "obama", photo("fixtures/obama2.jpg"))
    assert same.decision == "match"
    assert same.score >= same.threshold
    assert same.model_version and same.event_id.startswith("evt_")

    other = gate.verify(dep, "obama", photo("fixtures/biden.jpg"))
    assert other.decision == "no_match"
    assert other.score < other.threshold

    who = gate.identify(dep, photo("fixtures/obama3.jpg"))
    assert (who.decision, who.subject_ref) == ("match", "obama")
    assert who.gallery_size == 3
    who = gate.identify(dep, photo("fixtures/knn/train/biden/biden2.jpg"))
    assert who.subject_ref == "biden"

    stranger = gate.identify(dep, photo("fixtures/Anthony_Hopkins_0001.jpg"))
    assert stranger.decision == "unknown"
    assert stranger.subject_ref is None
    assert stranger.score is None  # no score for strangers: it would leak who is enrolled

    before = gate.counts()
    receipt = gate.withdraw_consent(dep, "obama")
    assert receipt.templates_erased == 1 and receipt.key_destroyed
    after = gate.counts()
    assert after["subjects"] == before["subjects"] - 1
    assert after["templates"] == before["templates"] - 1
    assert after["consents"] == before["consents"] - 1

    with pytest.raises(PolicyDenied) as refused:
        gate.verify(dep, "obama", photo("fixtures/obama2.jpg"))
    assert refused.value.rule_id == "CN-FR-6"
    # Nobody else is taken for Obama once he is gone.
    assert gate.identify(dep, photo("fixtures/obama3.jpg")).subject_ref != "obama"
    assert gate.verify_ledger().ok


def test_without_consent_everything_is_refused_and_nothing_stored(gate: Gate, photo: Photo) -> None:
    dep = _deployment(gate)
    before = gate.counts()
    for act in (
        lambda: gate.enroll(dep, "alice", photo("fixtures/obama.jpg")),
        lambda: gate.verify(dep, "alice", photo("fixtures/obama.jpg")),
    ):
        with pytest.raises(PolicyDenied) as refused:
            act()
        assert refused.value.rule_id == "CN-FR-6"
        assert "consent" in refused.value.advice.lower()
    after = gate.counts()
    for table in ("subjects", "consents", "templates"):
        assert after[table] == before[table] == 0
    # The refusals themselves are evidence.
    assert after["ledger_entries"] == before["ledger_entries"] + 2
    # Identify finds nobody: nobody has consented, so nobody is in the gallery.
    assert gate.identify(dep, photo("fixtures/obama.jpg")).decision == "unknown"


def test_templates_do_not_match_across_deployments(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    a, b = _deployment(gate, "A"), _deployment(gate, "B")
    # The same photo of the same person, protected under each deployment's key.
    embedding = gate.engine.extract_for_enrollment(decode_image(photo("fixtures/obama.jpg")))
    protected = {}
    for dep in (a, b):
        with gate.db.read() as s:
            row = s.get(tables.Deployment, dep)
            assert row is not None
            protected[dep] = gate.core.keyring.protector(row).protect(embedding.embedding)
    scheme = get_scheme(gate.get_deployment(a).scheme)
    cross = scheme.similarity(protected[a], protected[b])
    threshold = gate.get_deployment(a).threshold
    assert cross < threshold - 0.1, (cross, threshold)
    # Through the Gate: enrolled in A, the person is unknown to B's gallery.
    consent(gate, a, "obama")
    gate.enroll(a, "obama", photo("fixtures/obama.jpg"))
    assert gate.verify(a, "obama", photo("fixtures/obama.jpg")).score > 0.95
    assert gate.identify(b, photo("fixtures/obama.jpg")).decision == "unknown"


def test_erase_then_unknown_and_rows_gone(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    dep = _deployment(gate)
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    receipt = gate.erase(dep, "obama")
    assert receipt.templates_erased == 1
    assert gate.counts()["templates"] == 0
    with pytest.raises(NotFound):
        gate.erase(dep, "obama")
    assert gate.identify(dep, photo("fixtures/obama2.jpg")).decision == "unknown"


def test_banned_location_is_refused_with_rule_id(gate: Gate) -> None:
    with pytest.raises(PolicyDenied) as refused:
        draft(
            gate,
            name="Spa",
            purpose="Guests open lockers by face at the spa",
            location="changing_room",
            alternative="locker key",
        )
    assert refused.value.rule_id == "CN-FR-13"
    assert gate.list_deployments() == []


def test_missing_alternative_is_refused(gate: Gate) -> None:
    with pytest.raises(PolicyDenied) as refused:
        draft(
            gate,
            name="Gate",
            purpose="Residents open the gate by face",
            location="residential_compound",
            alternative="",
        )
    assert refused.value.rule_id == "CN-FR-10"


def test_index_is_rebuilt_from_the_store(
    sqlite_gate: Gate, photo: Photo, face_engine: object
) -> None:
    gate = sqlite_gate
    dep = _deployment(gate)
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    settings = gate.settings
    gate.close()
    with Gate.open(settings=settings, engine=face_engine) as reopened:  # type: ignore[arg-type]
        who = reopened.identify(dep, photo("fixtures/obama2.jpg"))
        assert who.subject_ref == "obama"
