"""``facegate policy`` and ``deployment create``, run as a user would."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cli_runner import CN_ARGS, draft, fg, live, sign


def test_explain_the_rules_behind_a_deployment_and_a_refusal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")  # only init makes a home
    dep = draft(home)
    assert any("pia sign" in n for n in dep["notes"])
    why = json.loads(fg(home, "policy", "explain", dep["event_id"], "--json").stdout)
    assert why["kind"] == "deployment.created" and why["intact"]
    cited = {r["id"]: r for r in why["rules"]}
    assert {"CN-FR-4", "CN-FR-13"} <= cited.keys()
    assert cited["CN-FR-13"]["source"] == "Measures Art 13; PIPL Art 26"
    assert cited["CN-FR-13"]["plain"]
    # The assessment is judged when the DPO signs it: that event cites CN-FR-9.
    signed = sign(home, dep["id"])
    why = json.loads(fg(home, "policy", "explain", signed["event_id"], "--json").stdout)
    assert why["kind"] == "pia.signed" and "CN-FR-9" in {r["id"] for r in why["rules"]}

    refused = fg(
        home,
        "deployment",
        "create",
        *CN_ARGS,
        "--name",
        "Spa",
        "--purpose",
        "Guests open lockers by face at the spa",
        "--location",
        "changing_room",
        "--alternative",
        "locker key",
        ok=False,
    )
    assert refused.returncode == 4 and "CN-FR-13" in refused.stderr
    con = sqlite3.connect(home / "facegate.db")
    (event_id,) = con.execute(
        "SELECT event_id FROM ledger_entries WHERE kind = 'policy.denied' ORDER BY idx DESC"
    ).fetchone()
    con.close()
    human = fg(home, "policy", "explain", event_id).stdout
    assert "policy.denied" in human and "CN-FR-13" in human and "changing rooms" in human
    assert "stage: register_deployment" in human


def test_explain_a_rule_and_list_packs(tmp_path: Path) -> None:
    text = fg(None, "policy", "explain", "eu-ai-14").stdout
    assert "EU-AI-14" in text and "AI Act Art 14(5)" in text and "two" in text
    rule = json.loads(fg(None, "policy", "explain", "US-IL-15a", "--json").stdout)
    assert rule["checks"][0]["pack"] == "us-il"
    rows = json.loads(fg(None, "policy", "list", "--pack", "eu", "--json").stdout)
    assert {r["id"] for r in rows} >= {"EU-GDPR-9", "EU-AI-5", "EU-AI-14", "EU-AI-19"}
    assert {r["pack"] for r in rows} == {"eu"}
    everything = json.loads(fg(None, "policy", "list", "--json").stdout)
    assert {r["pack"] for r in everything} == {
        "cn",
        "eu",
        "us-il",
        "us-tx",
        "us-wa",
        "ind-2019",
        "standards",  # the baseline every deployment is held to
    }
    fg(tmp_path / "home", "init")  # only init makes a home
    missing = fg(tmp_path / "home", "policy", "explain", "evt_nope", ok=False)
    assert missing.returncode == 5 and "no ledger event" in missing.stderr
    unknown = fg(None, "policy", "explain", "CN-FR-99", ok=False)
    assert unknown.returncode == 5


def test_startup_self_check(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    live(home)  # the self-check is judged by the packs of the deployments in use
    r = json.loads(fg(home, "policy", "check", "--json").stdout)
    assert r["ok"] and r["controls"]["encryption"] is True and not r["problems"]
    assert r["controls"]["intrusion_detection"] is None  # measured by 'serve' only
    assert "attest" in r["measurements"]["intrusion_detection"]
    assert {"CN-FR-14", "CN-PIPL-69", "ISO-24745"} <= set(r["rule_ids"])
    home.chmod(0o755)  # others may now read the home: the start repairs it, and says so
    repaired = fg(home, "policy", "check", "--json")
    assert "made it 0700" in repaired.stderr and json.loads(repaired.stdout)["ok"]
    assert home.stat().st_mode & 0o777 == 0o700
