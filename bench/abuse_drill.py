"""Abuse drill (issue 14): a hill-climbing attack is stopped; ordinary traffic is not.

A real Gate (door, watch, ledger) with one photo of each person of the folder sets enrolled
(orl, faces94, celebrities), a clock that moves with each request, and two kinds of traffic:

* **ordinary**: a day at three desks: every other photo of every enrolled person verified
  and identified, one impostor try per person, strangers (in_the_wild, fixtures) searched,
  all shuffled over the day. Wanted: no alert.
* **attack** on ``--targets`` people with a stolen API key and the verify score as its
  oracle (facegate.evaluation.attacks.guesses: the public mean face, other people's photos,
  synthetic faces drawn from them), then climbing from the best guess by random steps that
  keep what scores higher. Run offline first against the same template and score (no
  detection): queries to success. Then through the Gate, fast (a query every 2 s) and slow
  (one every 15 minutes, under the hourly burst): whether it succeeded before it was stopped.

Usage: ``nice python bench/abuse_drill.py [--targets N] [--budget Q]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from drill_common import DrillEngine, Photo, default_faces, every_photo
from facegate.config import Settings
from facegate.errors import FacegateError, PolicyDenied
from facegate.evaluation.attacks import guesses
from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.templates.hazmat import hamming

SPEC: dict[str, Any] = {
    "name": "Office door",
    "purpose": "Staff open the office door with their face",
    "location": "office",
    "alternative": "badge at the reception",
    "jurisdiction": "cn",
    "legal_basis": "consent",
    "retention_days": 365,
    "capabilities": ["verify", "identify"],
    "capture": "on_request",
    "signage": True,
    "alternative_penalty": False,
    "pia": {
        k: f"The {k} of this drill, written out in full."
        for k in ("lawfulness", "impact", "risks", "safeguards", "conclusion")
    },
}
FOLDERS = ("orl/", "faces94/", "celebrities/")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 8, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def setup(
    home: Path, engine: DrillEngine, people: dict[str, list[Photo]], clock: Clock
) -> tuple[Gate, str, dict[str, Photo]]:
    gate = Gate.open(settings=Settings(home=home), engine=engine, create=True, clock=clock)
    gate.set_operator(name="Drill Co", contact="+86 21 5555 0100", dpo="DPO, dpo@drill.example")
    dep = gate.create_deployment(**SPEC)
    dpo = gate.acting_as(gate.create_principal("Drill DPO", "dpo").api_key.key)
    dpo.sign_pia(
        dep.id, necessity="Badges are lent and copied; the badge stays free.", answers=None
    )
    enrolled = {}
    for identity, photos in people.items():
        ref = identity.replace("/", "-")
        gate.give_consent(dep.id, ref, method="explicit_click", adult_attested=True)
        try:
            gate.enroll(dep.id, ref, photos[0].data)
            enrolled[ref] = photos[0]
        except FacegateError:
            continue
    return gate, dep.id, enrolled


def ordinary(
    gate: Gate,
    dep: str,
    people: dict[str, list[Photo]],
    strangers: list[Photo],
    *,
    enrolled: dict[str, Photo],
    clock: Clock,
) -> dict[str, Any]:
    desks = [
        gate.acting_as(gate.create_principal(f"Desk {i}", "operator").api_key.key) for i in range(3)
    ]
    rng = random.Random(1)
    refs = list(enrolled)
    work: list[tuple[str, str | None, bytes]] = []
    for ref in refs:
        for p in people[ref.replace("-", "/", 1)][1:]:
            work += [("verify", ref, p.data), ("identify", None, p.data)]
        other = people[rng.choice([r for r in refs if r != ref]).replace("-", "/", 1)][1]
        work.append(("verify", ref, other.data))  # an impostor tries once
    work += [("identify", None, s.data) for s in strangers]
    rng.shuffle(work)
    step = 24 * 3600 / len(work)
    counts = {"requests": len(work), "refused": 0, "verify_match": 0, "verify": 0}
    for i, (act, ref, data) in enumerate(work):
        clock.tick(step)
        desk = desks[i % 3]
        try:
            if act == "verify" and ref is not None:
                counts["verify"] += 1
                counts["verify_match"] += desk.verify(dep, ref, data).decision == "match"
            else:
                desk.identify(dep, data)
        except PolicyDenied:
            counts["refused"] += 1
    counts["alerts"] = len(gate.list_alerts())
    return counts


class Stopped(Exception):
    """The Gate stopped the attack (a block on the target)."""


def climb(
    score: Any, pool: np.ndarray, seed: int, budget: int, threshold: float
) -> tuple[int, str] | None:
    """The attack: 20 guesses, then random steps from the best, keeping what scores higher;
    the queries it took to reach the threshold (None: not within the budget). ``score`` is
    the oracle: the verify score, or -1 for a probe refused without a score. Also says
    whether a guess ("guess": a dictionary hit) or the climb ("climb") succeeded."""
    rng = np.random.default_rng(seed)
    starts = pool[rng.choice(len(pool), size=20, replace=False)]
    best, best_score, sent = starts[0], -1.0, 0
    for guess in starts:
        sent += 1
        s = score(guess)
        if s >= threshold:
            return sent, "guess"
        if s > best_score:
            best, best_score = guess, s
    while sent < budget:
        candidate = best + rng.standard_normal(best.size) * 0.012
        sent += 1
        s = score(candidate)
        if s >= threshold:
            return sent, "climb"
        if s > best_score:
            best, best_score = candidate, s
    return None


def through_gate(
    gate: Gate, engine: DrillEngine, dep: str, ref: str, *, clock: Clock, every: float
) -> tuple[Any, dict[str, int]]:
    """The verify score as the oracle, as the attacker's one principal, a query every
    ``every`` seconds; a wolf probe refused scores -1, a block stops the attack."""
    name = f"Thief {ref} every {every:g}s"
    thief = gate.acting_as(gate.create_principal(name, "operator").api_key.key)
    seen = {"queries": 0, "refused": 0}

    def score(probe: np.ndarray) -> float:
        clock.tick(every)
        seen["queries"] += 1
        try:
            return float(thief.verify(dep, ref, engine.plant(probe)).score)
        except PolicyDenied as err:
            seen["refused"] += 1
            if "mean face" in err.message:
                return -1.0
            raise Stopped from err

    return score, seen


def attack(
    gate: Gate,
    engine: DrillEngine,
    dep: str,
    ref: str,
    *,
    clock: Clock,
    every: float,
    pool: np.ndarray,
    seed: int,
    threshold: float,
) -> dict[str, Any]:
    score, seen = through_gate(gate, engine, dep, ref, clock=clock, every=every)
    try:
        won = climb(score, pool, seed, 10**6, threshold)
    except Stopped:
        won = None
    return {"succeeded": won[1] if won else None, **seen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", type=int, default=30)
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--faces", type=Path, default=default_faces())
    args = ap.parse_args()
    started = time.perf_counter()
    photos = every_photo(args.faces)
    engine = DrillEngine(photos)
    people: dict[str, list[Photo]] = {}
    for p in photos:
        if p.identity.startswith(FOLDERS):
            people.setdefault(p.identity, []).append(p)
    people = {k: v for k, v in people.items() if len(v) >= 2}
    strangers = [p for p in photos if not p.identity.startswith(FOLDERS)]
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        gate, dep, enrolled = setup(Path(tmp) / "home", engine, people, clock)
        traffic = ordinary(gate, dep, people, strangers, enrolled=enrolled, clock=clock)
        print(f"ordinary traffic: {traffic}", file=sys.stderr)
        figures = {
            "enrolled": len(enrolled),
            "ordinary": traffic,
            **attacks(gate, engine, dep, enrolled=enrolled, photos=photos, clock=clock, args=args),
        }
        gate.close()
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))


def attacks(
    gate: Gate,
    engine: DrillEngine,
    dep: str,
    *,
    enrolled: dict[str, Photo],
    photos: list[Photo],
    clock: Clock,
    args: Any,
) -> dict[str, Any]:
    core = gate.core
    with core.db.read() as s:
        row = s.get(t.Deployment, dep)
        assert row is not None
        s.expunge(row)
    protector = core.keyring.protector(row)
    threshold = row.threshold
    rng = np.random.default_rng(14)
    offline, fast, slow = [], [], []
    for ref in random.Random(2).sample(sorted(enrolled), min(args.targets, len(enrolled))):
        target = protector.protect(enrolled[ref].embedding)
        identity = enrolled[ref].identity
        dictionary = np.vstack([p.embedding for p in photos if p.identity != identity])
        pool = guesses(dictionary, rng.bytes(32))
        score = lambda v, t=target: hamming.similarity(protector.protect(v), t)  # noqa: E731
        seed = int(rng.integers(2**32))
        offline.append(climb(score, pool, seed, args.budget, threshold))
        kw = {"clock": clock, "pool": pool, "seed": seed, "threshold": threshold}
        fast.append(attack(gate, engine, dep, ref, every=2, **kw))
        clock.tick(3 * 24 * 3600)  # blocks lapse before the next target
        slow.append(attack(gate, engine, dep, ref, every=15 * 60, **kw))
        clock.tick(3 * 24 * 3600)
        print(f"{ref}: offline {offline[-1]}, fast {fast[-1]}, slow {slow[-1]}", file=sys.stderr)
    won = [q for q in offline if q is not None]
    return {
        "targets": len(offline),
        "without_detection": {
            "succeeded": len(won),
            "by_a_guess": sum(1 for _, how in won if how == "guess"),
            "by_climbing": sum(1 for _, how in won if how == "climb"),
            "median_queries": float(np.median([q for q, _ in won])) if won else None,
        },
        "fast_attack": _summary(fast),
        "slow_attack": _summary(slow),
        "alerts": len(gate.list_alerts()),
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    stopped = [r["queries"] for r in runs if r["succeeded"] is None]
    return {
        "succeeded_by_a_guess": sum(r["succeeded"] == "guess" for r in runs),
        "succeeded_by_climbing": sum(r["succeeded"] == "climb" for r in runs),
        "stopped": len(stopped),
        "median_queries_before_stop": float(np.median(stopped)) if stopped else None,
    }


if __name__ == "__main__":
    main()
