"""Patterns of harvesting and attack, judged on what the ledger already records (pure).

* **Hill-climbing** (the online attack on a template, and what a stolen key's attack needs
  to check its guesses): many probes against one person, failing, with scores that rise
  towards the threshold. Ordinary traffic fails rarely (a genuine person 1 to 3 % of tries;
  an impostor once or twice, scattered). Judged per person: a :data:`BURST` of failures
  within an hour, :data:`CLIMB` failures in a row whose scores rise and come within
  :data:`NEAR` of the threshold, or :data:`DAILY` failures within a day (a slow climber).
* **A wolf probe**: an embedding within :data:`WOLF_RADIUS` of the public mean face.
  Real faces lie 0.45 to 0.75 from it (every shared photo); the mean face and faces drawn
  near it are the attack's first guesses (:func:`facegate.evaluation.attacks.guesses`), and
  at threshold 0.80 the mean face alone passes for more than half of all people.
* **A sweep of strangers**: one principal's 1:N searches of one deployment in the last hour
  that name nobody, :data:`SWEEP` or more and most of them.
* **A bulk export beyond the agreement**: more people than the agreement allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

__all__ = [
    "BLOCK",
    "BURST",
    "CLIMB",
    "DAILY",
    "DAY",
    "NEAR",
    "SWEEP",
    "WINDOW",
    "WOLF_RADIUS",
    "Probe",
    "hill_climb",
    "sweep",
]

#: how far back a pattern is looked for, and how long a detected one blocks
WINDOW: Final = timedelta(hours=1)
BLOCK: Final = timedelta(hours=24)
#: failed 1:1 probes of one person within WINDOW that stop the next one
BURST: Final = 5
#: ... and within DAY (an attacker who keeps under BURST an hour)
DAY: Final = timedelta(hours=24)
DAILY: Final = 12
#: consecutive failed probes with rising scores ...
CLIMB: Final = 4
#: ... the last of them this close to the threshold
NEAR: Final = 0.06
#: a probe this close to the public mean face is an attack's guess, not a face
WOLF_RADIUS: Final = 0.35
#: 1:N searches naming nobody, by one principal within WINDOW
SWEEP: Final = 30
SWEEP_SHARE: Final = 0.5


@dataclass(frozen=True, slots=True)
class Probe:
    """One recorded 1:1 or 1:N attempt, as the ledger has it."""

    at: datetime
    decision: str  # match, no_match, unknown, pending
    score: float | None = None


def hill_climb(probes: Sequence[Probe], *, threshold: float, now: datetime) -> str | None:
    """Why the attempts on one person (oldest first) look like hill-climbing, or None."""
    recent = [p for p in probes if p.at >= now - WINDOW]
    failed = [p for p in recent if p.decision == "no_match"]
    if len(failed) >= BURST:
        return f"{len(failed)} failed probes of one person within {_hours(WINDOW)}"
    daily = [p for p in probes if p.at >= now - DAY and p.decision == "no_match"]
    if len(daily) >= DAILY:
        return f"{len(daily)} failed probes of one person within a day"
    run: list[float] = []
    for p in recent:
        if p.decision != "no_match" or p.score is None:
            run = []
            continue
        run = [*run, p.score] if not run or p.score > run[-1] else [p.score]
    if len(run) >= CLIMB and run[-1] >= threshold - NEAR:
        scores = ", ".join(f"{s:.3f}" for s in run[-CLIMB:])
        return f"{len(run)} failed probes of one person converging on it (scores {scores})"
    return None


def sweep(searches: Sequence[Probe], *, now: datetime) -> str | None:
    """Why one principal's 1:N searches look like a sweep of strangers, or None."""
    recent = [p for p in searches if p.at >= now - WINDOW]
    unknown = sum(1 for p in recent if p.decision == "unknown")
    if unknown >= SWEEP and unknown >= SWEEP_SHARE * len(recent):
        return f"{unknown} of {len(recent)} searches within {_hours(WINDOW)} named nobody"
    return None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return "an hour" if hours == 1 else f"{hours:g} hours"
