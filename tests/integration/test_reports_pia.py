"""PIA / DPIA and Art. 30 reports drafted from a live store, recorded in the ledger, and
rendered to a PDF whose text (Chinese included) can be read back."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lawful import OPERATOR, consent, live
from PIL import ImageFile
from pypdf import PdfReader
from sqlalchemy import select

from facegate.errors import InvalidInput
from facegate.gate import Gate
from facegate.reports import art30, issue_report, pia, write_report
from facegate.reports.document import Report
from facegate.reports.render import render_pdf
from facegate.storage import tables as t

Photo = Callable[[str], bytes]
PURPOSE = "住户刷脸开门 Residents open the compound gate by face"
NOW = datetime(2025, 10, 9, 1, 0, tzinfo=UTC)


def _values(report: Report) -> dict[str, str]:
    return {i.label: i.value for s in report.sections for i in s.items}


def _deployment(gate: Gate) -> str:
    dep = live(gate, name="North gate", purpose=PURPOSE, retention_days=180).id
    for ref in ("obama", "biden", "kit"):
        consent(gate, dep, ref)
    return dep


def test_reports_count_what_the_store_holds(gate: Gate, photo: Photo) -> None:
    dep = _deployment(gate)
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "biden", photo("fixtures/biden.jpg"))
    gate.withdraw_consent(dep, "kit")
    other = live(gate, name="Lobby", purpose="Staff pass the lobby by face", location="office").id
    consent(gate, other, "someone")  # must not leak into the first deployment's counts

    core = gate._core
    first = pia(core, dep)
    values = _values(first.report)
    assert values["Purpose"] == PURPOSE
    assert values["Scale now"].startswith(
        "people who consented: 2; with a stored template: 2; templates: 2; consents: 2"
    )
    assert values["Rights exercised so far"].startswith("1 withdrawals, 0 erasures")
    assert values["Result"].startswith("no rule refuses")
    assert values["Previous assessment"] == "none recorded in the ledger"
    assert values["Still valid"].startswith("yes")
    events = dict(first.report.sections[6].table.rows)  # type: ignore[union-attr]
    assert events["consent.given"] == "3" and events["enroll"] == "2"
    assert events["consent.withdrawn"] == "1" and events["deployment.created"] == "1"

    with gate.db.read() as s:
        last = s.scalars(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx.desc())).first()
    assert last is not None
    leaf = json.loads(last)
    assert leaf["kind"] == "report.issued" and leaf["deployment"] == dep
    assert leaf["details"]["sha256"] == first.sha256 == first.report.sha256()
    assert leaf["rules"] == ["CN-FR-9", "EU-GDPR-35"]

    again = pia(core, dep)
    assert first.event_id in _values(again.report)["Previous assessment"]

    record = art30(core, dep)
    values = _values(record.report)
    assert values["Name"] == OPERATOR["name"]
    assert first.event_id not in values["Latest PIA / DPIA"]  # the latest is the second
    assert again.event_id in values["Latest PIA / DPIA"]
    assert "signed by the DPO" in values["Latest PIA / DPIA"]
    assert "now 2 people, 2 with a stored template" in values["Data subjects"]
    assert gate.verify_ledger().ok


def test_a_pdf_with_pages_and_chinese_text(sqlite_gate: Gate, tmp_path: Path) -> None:
    dep = _deployment(sqlite_gate)
    issued = pia(sqlite_gate._core, dep, now=NOW)
    written = write_report(issued.report, tmp_path / "pia.pdf")
    data = (tmp_path / "pia.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and written.bytes == len(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 3
    text = "".join(page.extract_text() for page in reader.pages)
    flat = "".join(text.split())
    for needle in (
        "个人信息保护影响评估报告",
        "住户刷脸开门",
        dep,
        "Personalinformationprotectionimpactassessment",
        "CN-FR-9",
        issued.sha256,
        "泄露",
    ):
        assert needle in flat, needle
    # WeasyPrint's import turns this Pillow switch on; facegate's decoder needs it off
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False

    with pytest.raises(InvalidInput, match="no report called"):
        issue_report(sqlite_gate._core, "dpia", dep)

    record = render_pdf(art30(sqlite_gate._core, dep, now=NOW).report)
    reader = PdfReader(io.BytesIO(record))
    flat = "".join("".join(p.extract_text() for p in reader.pages).split())
    assert "个人信息处理活动记录" in flat and "(g)Technicalandorganisational" in flat
