"""The PIA and Art. 30 builders are pure functions of the facts: checked without a store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.errors import ConfigError, InvalidInput
from facegate.policy import Declarations, DeploymentFacts
from facegate.reports import render
from facegate.reports.art30 import build_art30
from facegate.reports.document import TO_COMPLETE, Report
from facegate.reports.facts import AssessmentRecord, PolicyFacts, ReportFacts, RuleResult
from facegate.reports.layout import css_string
from facegate.reports.pia import build_pia
from facegate.results import DeploymentInfo
from facegate.supervision.metrics import DeploymentCounts

NOW = datetime(2025, 10, 9, 1, 0, tzinfo=UTC)
PURPOSE = "住户刷脸开门 Residents open the compound gate by face"


def _facts(**kw: object) -> ReportFacts:
    dep = DeploymentInfo(
        id="dep_abc",
        operator_id="op_local",
        name="North gate",
        purpose=PURPOSE,
        necessity="The gate is unattended at night.",
        legal_basis="consent",
        location_type="residential_compound",
        signage=True,
        jurisdiction="cn",
        retention_days=180,
        alternative="key card",
        threshold=0.8,
        scheme="biohash-v1",
        model_version="dlib-resnet-v1",
        status="live",
        created_at=datetime(2025, 9, 1, tzinfo=UTC),
        notice_version=2,
        event_id="",
    )
    facts = ReportFacts(
        key_custody="file-clear",
        generated_at=NOW,
        operator_id="op_local",
        operator_name="Acme Property",
        operator_contact="",
        deployment=dep,
        facts=DeploymentFacts(
            purpose=PURPOSE,
            necessity=dep.necessity,
            legal_basis="consent",
            location_type=dep.location_type,
            alternative="key card",
            signage=True,
            jurisdiction="cn",
            purpose_sha256="",
            scope="application",
            capabilities=frozenset({"verify"}),
            capture=None,
            retention_days=180,
            purpose_ends_at=None,
            egress=False,
            alternative_enabled=True,
            status="live",
            controller="Acme Property",
            controller_contact="",
            dpo="",
            method_sha256="",
            pia=None,
            declarations=Declarations.from_dict(
                {"alternative_penalty": False, "law_enforcement": False}
            ),
            public_security=None,
            scheme="biohash-v1",
            threshold=0.8,
        ),
        notice_version=2,
        notice_sha256="ab" * 32,
        notice_body={"rights": "withdraw at any time", "purpose": PURPOSE},
        counts=DeploymentCounts(
            deployment_id="dep_abc",
            subjects=5,
            people_stored=4,
            templates=6,
            consents=5,
            events={"consent.given": 5, "enroll": 6, "consent.withdrawn": 1},
        ),
        ledger_size=40,
        ledger_origin="facegate.local/ledger",
        ledger_key="facegate.local/ledger+abcd+KEY",
        checkpoint="facegate.local/ledger\n40\nROOT=\n",
        policy=PolicyFacts(
            results=(
                RuleResult("register_deployment", "CN-FR-4", "specific purpose"),
                RuleResult("activate_deployment", "CN-FR-9", "a PIA before going live"),
            )
        ),
        assessment=AssessmentRecord(
            version=1,
            sha256="cd" * 32,
            body={"lawfulness": "lawful", "conclusion": "proportionate"},
            drafted=False,
            confirmed_by="Li Lei, DPO",
            completed_at=datetime(2025, 8, 30, tzinfo=UTC),
            keep_until=datetime(2028, 8, 30, tzinfo=UTC),
            signed_by="pr_li_lei",
            signed_at=datetime(2025, 8, 30, tzinfo=UTC),
            current=True,
        ),
    )
    return replace(facts, **kw)  # type: ignore[arg-type]


def _values(report: Report) -> dict[str, str]:
    return {i.label: i.value for s in report.sections for i in s.items}


def test_pia_states_what_cn_fr_9_and_gdpr_35_ask() -> None:
    report = build_pia(_facts())
    assert report.kind == "pia" and report.subject == "dep_abc"
    assert report.rules == ("CN-FR-9", "EU-GDPR-35")
    values = _values(report)
    assert values["Purpose"] == PURPOSE
    assert values["Why face recognition is necessary"] == "The gate is unattended at night."
    assert values["Non-face alternative offered"] == "key card"
    assert "180 days" in values["Retention"]
    assert "with a stored template: 4" in values["Scale now"]
    assert "1 withdrawals" in values["Rights exercised so far"]
    # signed by a principal with the dpo role (no longer a typed "confirmed by" name)
    assert (
        values["Signed by the DPO"] == "Li Lei, DPO (principal pr_li_lei, role dpo) on 2025-08-30"
    )
    assert values["Still valid"].startswith("yes")
    assert values["Keep this report until at least"] == "2028-10-09"
    titles = [s.title_zh for s in report.sections]
    assert report.title_zh == "个人信息保护影响评估报告"
    assert "泄露" in titles[4] and "保护措施" in titles[5]
    events = next(s for s in report.sections if s.title.startswith("7.")).table
    assert events is not None and ("enroll", "6") in events.rows


def test_what_software_cannot_know_is_marked_to_complete() -> None:
    report = build_pia(_facts())
    todo = {i.label for s in report.sections for i in s.items if i.todo}
    assert {"Contact", "Assessor, date and signature"} <= todo
    assert all(
        i.value == TO_COMPLETE for s in report.sections for i in s.items if i.label == "Contact"
    )


def test_a_refusal_and_a_stale_assessment_are_stated() -> None:
    stale = replace(_facts().assessment, current=False)  # type: ignore[type-var]
    refused = PolicyFacts(
        results=(RuleResult("activate_deployment", "CN-FR-9", "PIA", "no assessment"),)
    )
    values = _values(build_pia(_facts(assessment=stale, policy=refused)))
    assert values["Result"] == "REFUSED: CN-FR-9: no assessment"
    assert values["Still valid"].startswith("NO")
    assert _values(build_pia(_facts(assessment=None)))["Assessment"] == TO_COMPLETE
    # while no DPO has signed, the report says the signature is still owed
    unsigned = replace(_facts().assessment, signed_by=None, signed_at=None)  # type: ignore[type-var]
    assert _values(build_pia(_facts(assessment=unsigned)))["Signed by the DPO"] == TO_COMPLETE


def test_the_digest_follows_the_content() -> None:
    a, b = build_pia(_facts()), build_pia(_facts())
    assert a.sha256() == b.sha256()
    assert build_pia(_facts(operator_name="Other")).sha256() != a.sha256()


def test_art30_has_points_a_to_g() -> None:
    report = build_art30(_facts())
    assert [s.title[:3] for s in report.sections][:7] == [
        "(a)",
        "(b)",
        "(c)",
        "(d)",
        "(e)",
        "(f)",
        "(g)",
    ]
    values = _values(report)
    assert values["Name"] == "Acme Property"
    assert values["Transfers and safeguards"].startswith("none")
    assert values["Recipients to whom data has been or will be disclosed"].startswith("none")
    assert "180 days" in values["Face templates"]
    shared = _facts(
        counts=replace(_facts().counts, events={"share": 2}),
        facts=replace(_facts().facts, egress=True),
    )
    values = _values(build_art30(shared))
    assert values["Recipients to whom data has been or will be disclosed"] == "share: 2 events"
    assert "may leave" in values["Transfers and safeguards"]


def test_html_escapes_whatever_the_operator_typed() -> None:
    hostile = _facts(operator_name='<script>alert(1)</script>"</style>')
    html = render.render_html(build_pia(hostile))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("</style>") == 1
    assert "个人信息保护影响评估报告" in html
    assert "http://" not in html and "https://" not in html  # nothing loads from outside
    assert css_string('a"b</style>') == '"a\\22 b\\3c /style\\3e "'


def test_output_names_and_missing_fonts_fail_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = build_art30(_facts())
    with pytest.raises(InvalidInput, match="suffix"):
        render.write_report(report, tmp_path / "record.docx")
    with pytest.raises(InvalidInput, match="does not exist"):
        render.write_report(report, tmp_path / "missing" / "record.html")
    monkeypatch.setattr(render, "has_cjk_font", lambda: False)
    with pytest.raises(ConfigError, match="Chinese") as err:
        render.write_report(report, tmp_path / "record.pdf")
    assert "fonts-noto-cjk" in err.value.advice
    assert not (tmp_path / "record.pdf").exists()
    written = render.write_report(report, tmp_path / "record.html")
    assert written.format == "html" and written.bytes == (tmp_path / "record.html").stat().st_size
