"""Breach notification (CN-PIPL-57, EU-GDPR-33) both ways through the command line: closing an
incident is refused citing the rule while notice is still owed, then allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import fg
from lawful import PACK_SPEC, live

from facegate.config import Settings
from facegate.gate import Gate

rule = pytest.mark.rule


def _incident(home: Path, pack: str) -> str:
    with Gate.open(settings=Settings(home=home), create=True) as gate:
        live(gate, **PACK_SPEC[pack])
    opened = fg(
        home,
        "incident",
        "open",
        "--description",
        "a laptop with a database copy was stolen",
        "--people",
        "40",
        "--high-risk",
        "--json",
    )
    return str(json.loads(opened.stdout)["id"])


def _close(home: Path, incident: str, *, ok: bool) -> dict[str, object]:
    proc = fg(
        home,
        "incident",
        "close",
        "-i",
        incident,
        "--resolution",
        "keys rotated, laptop wiped",
        "--json",
        ok=ok,
    )
    return dict(json.loads(proc.stdout))


@rule("CN-PIPL-57", "refused")
@rule("EU-GDPR-33", "refused")
@pytest.mark.parametrize(("pack", "rule_id"), [("cn", "CN-PIPL-57"), ("eu", "EU-GDPR-33")])
def test_an_incident_cannot_close_before_the_authority_is_told(
    tmp_path: Path, pack: str, rule_id: str
) -> None:
    home = tmp_path / "h"
    incident = _incident(home, pack)
    refusal = _close(home, incident, ok=False)
    assert refusal["error"] == "policy_denied" and rule_id in refusal["rule_ids"]  # type: ignore[operator]


@rule("CN-PIPL-57", "allowed")
@rule("EU-GDPR-33", "allowed")
@pytest.mark.parametrize(("pack", "rule_id"), [("cn", "CN-PIPL-57"), ("eu", "EU-GDPR-33")])
def test_an_incident_closes_once_everyone_owed_notice_was_told(
    tmp_path: Path, pack: str, rule_id: str
) -> None:
    home = tmp_path / "h"
    incident = _incident(home, pack)
    fg(home, "incident", "notify", "-i", incident, "--to", "regulator", "--reference", "CASE-1")
    fg(home, "incident", "notify", "-i", incident, "--to", "individuals")
    closed = _close(home, incident, ok=True)
    assert closed["status"] == "closed"
