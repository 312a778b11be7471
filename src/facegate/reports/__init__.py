"""Reports drafted from the live system: the PIA / DPIA (CN-FR-9, EU-GDPR-35), the GDPR
Art. 30 record of processing, and the CN-FR-15 filing document; as HTML, PDF or JSON.

    issued = reports.pia(core, dep_id)                  # built and recorded in the ledger
    reports.write_report(issued.report, Path("pia.pdf"))
"""

from facegate.reports.document import Item, Report, Section, Table
from facegate.reports.issue import IssuedReport, art30, issue_report, pia
from facegate.reports.render import Rendered, render_html, render_pdf, write_report

__all__ = [
    "IssuedReport",
    "Item",
    "Rendered",
    "Report",
    "Section",
    "Table",
    "art30",
    "issue_report",
    "pia",
    "render_html",
    "render_pdf",
    "write_report",
]
