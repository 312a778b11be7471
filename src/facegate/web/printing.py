"""Printed documents of the consent desk: a deployment's notice with its consent form, as
PDF (WeasyPrint, as the reports are made: no browser, no network, Chinese set in an
installed CJK font).

The form names the notice by version and SHA-256, so the signed paper binds the exact text
the person read; the desk later records only the SHA-256 of the signed, scanned form.
"""

from __future__ import annotations

from typing import Any

from facegate.gate import Gate
from facegate.reports.render import _weasyprint_html, check_pdf_font
from facegate.web import render


def consent_form_html(gate: Gate, deployment_id: str, language: str) -> str:
    """The notice in force and the consent form, in ``language``, as one HTML document."""
    dep = gate.get_deployment(deployment_id)
    notice = gate.notice(deployment_id, language=language)
    operator = gate.operator()
    body = dict(notice.body)
    plain = body.pop("plain", "")
    body.pop("language", None)
    from facegate.web.public import FIELD_LABELS

    context: dict[str, Any] = {
        "dep": dep,
        "notice": notice,
        "fields": [(FIELD_LABELS.get(k, k), v) for k, v in body.items() if v],
        "plain": plain,
        "operator": operator,
        "written_at": gate.core.clock(),
    }
    env = render.environment(language)
    return env.get_template("print_consent.html").render(context)


def pdf(html: str) -> bytes:
    """``html`` as a PDF; :class:`facegate.errors.ConfigError` (with advice) when no font
    can set Chinese text."""
    check_pdf_font(None)
    data = _weasyprint_html()(string=html).write_pdf()
    assert isinstance(data, bytes)
    return data
