"""Issue a report: build it from the live system and record its digest in the ledger.

Recording the content hash with the time makes the report's date provable (CN-FR-9: a PIA
dated before the processing, kept for three years): the ledger event is the evidence that
this exact content existed then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from facegate.core import Core
from facegate.errors import InvalidInput
from facegate.ledger.events import Event, Kind
from facegate.reports.art30 import build_art30
from facegate.reports.document import Report
from facegate.reports.facts import ReportFacts, gather
from facegate.reports.pia import build_pia

BUILDERS: dict[str, Callable[[ReportFacts], Report]] = {"pia": build_pia, "art30": build_art30}


@dataclass(frozen=True)
class IssuedReport:
    report: Report
    sha256: str
    event_id: str


def issue_report(
    core: Core,
    kind: str,
    deployment_id: str,
    *,
    now: datetime | None = None,
    operator_id: str | None = None,
    by: str | None = None,
) -> IssuedReport:
    """Build the ``kind`` report ("pia" or "art30") for one deployment and record it, naming
    the principal ``by`` who issued it."""
    build = BUILDERS.get(kind)
    if build is None:
        raise InvalidInput(
            f"no report called {kind!r}", advice=f"Choose one of: {', '.join(sorted(BUILDERS))}."
        )
    now = now or core.clock()
    report = build(gather(core, deployment_id, now=now, operator_id=operator_id))
    digest = report.sha256()
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.REPORT_ISSUED,
                now,
                operator=core.deployment(s, deployment_id, operator_id).operator_id,
                deployment=deployment_id,
                rule_ids=report.rules,
                details={"report": kind, "sha256": digest, "open_items": report.todo_count()},
                by=by,
            ),
        )
    return IssuedReport(report=report, sha256=digest, event_id=recorded[0].event_id)


def pia(
    core: Core,
    deployment_id: str,
    *,
    now: datetime | None = None,
    operator_id: str | None = None,
) -> IssuedReport:
    """The deployment's PIA / DPIA (CN-FR-9, EU-GDPR-35), recorded in the ledger."""
    return issue_report(core, "pia", deployment_id, now=now, operator_id=operator_id)


def art30(
    core: Core,
    deployment_id: str,
    *,
    now: datetime | None = None,
    operator_id: str | None = None,
) -> IssuedReport:
    """The deployment's record of processing activities (EU-GDPR-30), recorded in the ledger."""
    return issue_report(core, "art30", deployment_id, now=now, operator_id=operator_id)
