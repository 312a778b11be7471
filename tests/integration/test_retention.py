"""The retention sweeper, with an injected clock: nothing outlives its time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.errors import Conflict, PolicyDenied
from facegate.gate import Gate
from facegate.recognition import FaceEngine

Photo = Callable[[str], bytes]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(settings: Settings, face_engine: FaceEngine) -> Iterator[tuple[Gate, Clock]]:
    """A Gate on a clock the test moves, on SQLite and on PostgreSQL."""
    clock = Clock()
    with Gate.open(settings=settings, clock=clock, engine=face_engine, create=True) as gate:
        yield gate, clock


def test_a_lapsed_consent_says_so_and_the_way_on(clocked: tuple[Gate, Clock]) -> None:
    """Before the sweep, a person whose consent expired cannot consent again over it: the
    conflict says it expired and what to do; withdrawing it opens the way."""
    gate, clock = clocked
    dep = live(gate, retention_days=30).id
    consent(gate, dep, "biden", expires_at=T0 + timedelta(days=10))
    with pytest.raises(Conflict) as valid:
        consent(gate, dep, "biden")
    assert "expired" not in valid.value.message  # still in force: the plain conflict
    clock.now = T0 + timedelta(days=11)
    with pytest.raises(Conflict) as expired:
        consent(gate, dep, "biden")
    assert "expired on 2026-03-12" in expired.value.message
    assert "withdraw it" in expired.value.advice
    gate.withdraw_consent(dep, "biden")
    assert consent(gate, dep, "biden").deployment_id == dep


def test_templates_expire_and_consents_lapse(clocked: tuple[Gate, Clock], photo: Photo) -> None:
    gate, clock = clocked
    dep = live(
        gate,
        name="Gym",
        purpose="Members enter the gym by face",
        location="gym",
        alternative="member card",
        retention_days=30,
    ).id
    consent(gate, dep, "obama")
    consent(gate, dep, "biden", expires_at=T0 + timedelta(days=10))
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    assert gate.identify(dep, photo("fixtures/obama2.jpg")).subject_ref == "obama"

    clock.now = T0 + timedelta(days=9)
    nothing = gate.sweep_retention()
    assert (nothing.templates_expired, nothing.subjects_erased) == (0, 0)

    clock.now = T0 + timedelta(days=11)
    lapsed = gate.sweep_retention()
    assert (lapsed.templates_expired, lapsed.subjects_erased, lapsed.keys_destroyed) == (0, 1, 1)
    with pytest.raises(PolicyDenied):
        gate.verify(dep, "biden", photo("fixtures/biden.jpg"))

    clock.now = T0 + timedelta(days=31)
    expired = gate.sweep_retention()
    assert expired.templates_expired == 1
    # Consents carry a TTL too (at most the retention), so Obama's person record goes with
    # his template: one receipt each.
    assert (expired.subjects_erased, len(expired.event_ids)) == (1, 2)
    assert gate.counts()["templates"] == gate.counts()["subjects"] == 0
    # The loaded 1:N gallery forgot the expired template too.
    assert gate.identify(dep, photo("fixtures/obama2.jpg")).decision == "unknown"
    assert gate.verify_ledger().ok
