"""Erasure survives kill -9 at any point: after a crash and the start-up sweep that ``serve``
runs, the key store and the database agree (no person without a key, no key without a person)
and every person the ledger says was erased is gone, key included."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.flows.keys import ORPHAN_AFTER
from facegate.gate import Gate
from facegate.storage import tables as t

SRC = str(Path(__file__).resolve().parents[2] / "src")
TESTS = str(Path(__file__).resolve().parent)
#: people consented before the crash loop; each loop erases some and consents others
PEOPLE = 40

LOOP = textwrap.dedent(
    """
    import sys
    from facegate.config import Settings
    from facegate.gate import Gate
    from lawful import consent
    home, dep = sys.argv[1], sys.argv[2]
    with Gate.open(settings=Settings(home=home)) as gate:
        n = 0
        while True:  # erase the next person, or consent them again if already erased
            n += 1
            person = f"p{n % 40}"
            try:
                gate.erase(dep, person)
            except Exception:
                consent(gate, dep, person)
            print(n, flush=True)
    """
)


def _agree(home: Path) -> dict[str, int]:
    """Open the home as serve would (sweeping orphans) and check store, keys and ledger."""
    # the sweep leaves keys younger than ORPHAN_AFTER alone (a consent may be committing):
    # looked at from later, every key left by the crash is old enough
    later = lambda: datetime.now(UTC) + 2 * ORPHAN_AFTER  # noqa: E731
    with Gate.open(settings=Settings(home=home), clock=later) as gate:
        swept = gate.sweep_orphan_keys()
        with gate.db.read() as s:
            subjects = {sid: p for sid, p in s.query(t.Subject.id, t.Subject.pseudonym).all()}
        keys = gate.core.keyring.keystore.all_ids()
        assert keys == set(subjects), (sorted(keys - set(subjects)), sorted(set(subjects) - keys))
        erased = set()
        for i in range(gate.counts()["ledger_entries"]):
            leaf = json.loads(gate.ledger_entry(i).data)
            if leaf["kind"] == "erase" and leaf["details"].get("key_destroyed"):
                erased.add(leaf["subject"])
            if leaf["kind"] == "consent.given":
                erased.discard(leaf["subject"])
        assert not erased & set(subjects.values())
        assert gate.verify_ledger().ok
        return {"people": len(subjects), "swept": swept}


@pytest.mark.slow
def test_kill_9_during_erasures_leaves_store_and_keys_agreeing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    with Gate.open(settings=Settings(home=home), create=True) as gate:
        dep = live(gate).id
        for i in range(PEOPLE):
            consent(gate, dep, f"p{i}")
    rng = random.Random(20261206)
    swept_total = 0
    deadline = time.monotonic() + 150
    kills = 0
    while kills < 12 and time.monotonic() < deadline:
        proc = subprocess.Popen(
            [sys.executable, "-c", LOOP, str(home), dep],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([SRC, TESTS])},
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # it is working
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        swept_total += _agree(home)["swept"]
    assert kills >= 5
    print(f"{kills} kills survived, {swept_total} orphan keys swept")
