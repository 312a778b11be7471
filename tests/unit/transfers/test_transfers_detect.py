"""The patterns: a burst of failures, a climb of rising near misses, a sweep of strangers;
and what ordinary traffic looks like (none of them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facegate.transfers import detect
from facegate.transfers.detect import Probe, hill_climb, sweep

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _probes(*pairs: tuple[str, float]) -> list[Probe]:
    start = NOW - timedelta(minutes=len(pairs))
    return [Probe(start + timedelta(minutes=i), d, s) for i, (d, s) in enumerate(pairs)]


def test_a_burst_of_failures_on_one_person() -> None:
    probes = _probes(*[("no_match", 0.6)] * detect.BURST)
    assert "failed probes" in (hill_climb(probes, threshold=0.8, now=NOW) or "")
    assert hill_climb(probes[1:], threshold=0.8, now=NOW) is None
    old = [Probe(p.at - timedelta(hours=2), p.decision, p.score) for p in probes]
    assert hill_climb(old, threshold=0.8, now=NOW) is None  # outside the window


def test_a_slow_climber_is_caught_within_a_day() -> None:
    slow = [Probe(NOW - timedelta(minutes=20 * i), "no_match", 0.7) for i in range(detect.DAILY)][
        ::-1
    ]
    assert hill_climb(slow[-detect.BURST + 1 :], threshold=0.8, now=NOW) is None
    assert "within a day" in (hill_climb(slow, threshold=0.8, now=NOW) or "")


def test_rising_near_misses_are_a_climb() -> None:
    climbing = _probes(
        ("no_match", 0.70), ("no_match", 0.73), ("no_match", 0.75), ("no_match", 0.77)
    )
    assert "converging" in (hill_climb(climbing, threshold=0.8, now=NOW) or "")
    far = _probes(("no_match", 0.50), ("no_match", 0.52), ("no_match", 0.53), ("no_match", 0.55))
    assert hill_climb(far, threshold=0.8, now=NOW) is None  # rising, but nowhere near
    broken = _probes(("no_match", 0.70), ("match", 0.9), ("no_match", 0.75), ("no_match", 0.77))
    assert hill_climb(broken, threshold=0.8, now=NOW) is None


def test_a_person_who_fails_now_and_then_is_no_attack() -> None:
    day = _probes(
        ("match", 0.9), ("no_match", 0.78), ("match", 0.86), ("no_match", 0.79), ("match", 0.9)
    )
    assert hill_climb(day, threshold=0.8, now=NOW) is None


def test_a_sweep_is_many_searches_naming_nobody() -> None:
    crowd = [Probe(NOW - timedelta(seconds=i), "unknown") for i in range(detect.SWEEP)]
    assert "named nobody" in (sweep(crowd, now=NOW) or "")
    desk = crowd + [Probe(NOW, "match")] * detect.SWEEP * 2
    assert sweep(desk, now=NOW) is None  # mostly people who chose to use their face
    assert sweep(crowd[1:], now=NOW) is None
