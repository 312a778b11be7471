"""Every rule id of LEGAL-RULES.md has a test refusing an act citing it and a test allowing
the act once the condition is met, and docs/rules.md lists them as they are."""

from __future__ import annotations

from pathlib import Path

from facegate.policy.rules_doc import missing, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_is_shown_refusing_and_allowing() -> None:
    assert missing(ROOT / "tests") == []


def test_docs_rules_md_is_current() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render(ROOT / "tests"), "run: python -m facegate.policy.rules_doc"
