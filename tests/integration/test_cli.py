"""The command line, run as a user would: separate processes, --home and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import consent_args, draft, fg, sign


def test_init_with_the_demo_counts_what_the_demo_made(tmp_path: Path) -> None:
    made = json.loads(fg(tmp_path / "home", "init", "--demo", "--json").stdout)
    assert made["demo"]["enrolled"] >= 1, made
    assert made["deployments"] >= 1 and made["templates"] == made["demo"]["enrolled"], made


def test_cli_lifecycle(tmp_path: Path, faces_dir: Path) -> None:
    home = tmp_path / "home"
    fx = faces_dir / "fixtures"
    assert json.loads(fg(home, "init", "--json").stdout)["ledger_entries"] >= 1
    dep = draft(home)
    d = dep["id"]
    assert (dep["status"], dep["notice_version"]) == ("draft", 0)
    assert any("pia sign" in n for n in dep["notes"]), "the sign-off step must be pointed out"
    # Nothing is consented to or processed while the assessment is unsigned.
    early = fg(home, "consent", "give", "-d", d, "-s", "obama", *consent_args("obama"), ok=False)
    assert early.returncode != 0 and "pia sign" in early.stderr + early.stdout
    # The owner (admin) may not sign for the DPO.
    unsigned = fg(home, "pia", "sign", "-d", d, "--necessity", "because", ok=False)
    assert unsigned.returncode == 8
    assert sign(home, d)["status"] == "live"
    refused = fg(home, "enroll", "-d", d, "-s", "obama", str(fx / "obama.jpg"), ok=False)
    assert refused.returncode == 4 and "CN-FR-6" in refused.stderr
    given = fg(home, "consent", "give", "-d", d, "-s", "obama", *consent_args("obama"), "--json")
    receipt = json.loads(given.stdout)
    assert receipt["access_code"]
    fg(home, "enroll", "-d", d, "-s", "obama", str(fx / "obama.jpg"))
    out = fg(home, "verify", "-d", d, "-s", "obama", str(fx / "obama2.jpg")).stdout
    assert ",match," in out
    out = json.loads(fg(home, "identify", "-d", d, str(fx / "biden.jpg"), "--json").stdout)
    assert out["decision"] == "unknown" and out["score"] is None
    bad = fg(home, "enroll", "-d", d, "-s", "obama", str(tmp_path / "missing.jpg"), ok=False)
    assert bad.returncode == 3 and "cannot read" in bad.stderr
    fg(home, "consent", "withdraw", "-d", d, "-s", "obama")
    assert json.loads(fg(home, "ledger", "verify", "--json").stdout)["ok"]
    assert fg(home, "ledger", "checkpoint").stdout.count("\n") >= 4


def test_ledger_verify_fails_loudly(tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "home"
    fg(home, "init")
    draft(home)
    con = sqlite3.connect(home / "facegate.db")
    (data,) = con.execute("SELECT data FROM ledger_entries WHERE idx = 1").fetchone()
    forged = bytes(data).replace(b'"kind":"', b'"kind":"X')
    assert forged != data
    con.execute("UPDATE ledger_entries SET data = ? WHERE idx = 1", (forged,))
    con.commit()
    con.close()
    proc = fg(home, "ledger", "verify", ok=False)
    assert proc.returncode == 7
    assert "entry 1" in proc.stderr


@pytest.mark.slow
def test_demo_runs(tmp_path: Path) -> None:
    out = json.loads(fg(tmp_path / "home", "demo", "--json").stdout)
    steps = {s["step"]: s for s in out["steps"]}
    assert steps["verify another photo of Barack"]["decision"] == "match"
    assert steps["verify Joe's photo as Barack"]["decision"] == "no_match"
    assert steps["identify a stranger"]["who"] == "unknown"
    assert steps["verify the ledger"]["ok"] is True
