"""``facegate campaign``: an enrollment campaign from the command line, on a local Ray cluster
started by the command itself. Only people on the signed roster are enrolled; an altered
roster is refused before any photo is read; a finished campaign is not run twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_runner import consent_args, fg, live

pytest.importorskip("ray", reason="Ray is the optional extra facegate[ray]")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
PEOPLE = ["9336923", "9338535", "anpage"]  # the last one never consents


def test_a_campaign_enrolls_the_roster_and_resumes(tmp_path: Path, faces_dir: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    dep = live(home)["id"]
    for ref in PEOPLE[:2]:
        fg(home, "consent", "give", "-d", dep, "--subject", ref, *consent_args(ref))
    folder = tmp_path / "photos"
    for ref in PEOPLE:
        (folder / ref).mkdir(parents=True)
        shutil.copy(faces_dir / "faces94" / ref / f"{ref}.1.jpg", folder / ref / "1.jpg")
    roster = tmp_path / "roster.json"
    made = json.loads(
        fg(home, "campaign", "roster", "-d", dep, "--out", str(roster), "--json").stdout
    )
    assert made["people"] == 2

    doc = json.loads(roster.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**doc, "refs": [*doc["refs"], "f" * 64]}))
    bad = fg(home, "campaign", "run", "-d", dep, str(folder), "--roster", str(forged), "--json",
             ok=False)  # fmt: skip
    assert bad.returncode != 0 and "altered" in bad.stdout + bad.stderr
    wrong = fg(home, "campaign", "run", "-d", dep, str(folder), "--roster", str(roster),
               "--kind", "everything", "--json", ok=False)  # fmt: skip
    assert wrong.returncode != 0 and "--kind" in wrong.stdout + wrong.stderr

    args = ("campaign", "run", "-d", dep, str(folder), "--roster", str(roster), "--workers", "1")
    report = json.loads(fg(home, *args, "--json").stdout)
    assert (report["status"], report["total"], report["enrolled"]) == ("done", 3, 2)
    assert sum(report["skipped"].values()) == 1  # the person not on the roster
    again = json.loads(fg(home, *args, "--json").stdout)
    assert (again["job"], again["enrolled"]) == (report["job"], 2)

    probe = faces_dir / "faces94" / PEOPLE[0] / f"{PEOPLE[0]}.5.jpg"
    found = json.loads(fg(home, "identify", "-d", dep, str(probe), "--json").stdout)
    assert PEOPLE[0] in json.dumps(found)
