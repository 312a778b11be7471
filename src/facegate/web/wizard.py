"""The registration wizard: the law's questions are the form's questions.

Each question is a field of :class:`facegate.specs.DeploymentSpec`, asked in words, with the
rule that needs it and what the answer changes. Nothing is pre-answered where the law
weighs the answer (a yes/no question starts with neither ticked), so a question left out is
the Gate's own error naming the field and its rule, never a silent default. Fields whose
absence can only make the law stricter (``egress``, ``scope``, ``liveness``) start at the
strict answer, as the spec does.

:func:`spec_fields` turns a submitted form into the keyword arguments of
``gate.create_deployment`` (or, with ``only``, of ``gate.change_deployment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData

from facegate.errors import FacegateError, InvalidInput, PolicyDenied
from facegate.policy.catalogue import text_of
from facegate.policy.facts import CAPABILITIES
from facegate.web.questions import (
    CODES,
    LAWS,
    PIA,
    QUESTIONS,
    SECURITY,
    STEPS,
    Question,
    choices,
)
from facegate.web.routing import form_text

__all__ = [
    "CODES",
    "LAWS",
    "PIA",
    "QUESTIONS",
    "STEPS",
    "Question",
    "answers",
    "choices",
    "cited",
    "problem_of",
    "spec_fields",
]


def _yesno(name: str, value: str) -> bool | None:
    if value in ("", None):
        return None
    if value not in ("yes", "no"):
        raise InvalidInput(f"{name}: answer yes or no")
    return value == "yes"


def _number(name: str, value: str, *, whole: bool) -> int | float | None:
    if not value:
        return None
    try:
        return int(value) if whole else float(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a number") from None


def _date(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput(f"{name}: write the date as YYYY-MM-DD") from None
    return day.replace(hour=23, minute=59, second=59, tzinfo=UTC)


def answers(form: FormData) -> dict[str, Any]:
    """The raw answers, as typed, to show the form again (escaped by the template)."""
    out: dict[str, Any] = {}
    for q in QUESTIONS.values():
        if q.kind == "choices":
            out[q.name] = [str(v) for v in form.getlist(q.name)][: len(CAPABILITIES)]
        elif q.kind == "laws":
            out["law"] = form_text(form, "law", max_len=20)
            out["codes"] = [str(v) for v in form.getlist("code")][:4]
        else:
            out[q.name] = form_text(form, q.name, max_len=q.max_len)
    return out


def spec_fields(raw: Mapping[str, Any], *, only: frozenset[str] | None = None) -> dict[str, Any]:
    """Keyword arguments for the Gate from :func:`answers`. A question left unanswered is
    left out (the Gate then names what the law needs); with ``only``, just those fields."""
    fields: dict[str, Any] = {}
    for q in QUESTIONS.values():
        if q.kind == "laws" or q.name in PIA or q.name in SECURITY:
            continue
        value = raw.get(q.name)
        if q.kind == "choices":
            fields[q.name] = list(value or [])
            continue
        value = value or q.strict_default
        parsed: Any = value or None
        if q.kind == "yesno":
            parsed = _yesno(q.name, value)
        elif q.kind == "number":
            parsed = _number(q.name, value, whole=q.name == "retention_days")
        elif q.kind == "date":
            parsed = _date(q.name, value)
        if parsed is not None:
            fields[q.name] = parsed
    law = raw.get("law") or ""
    fields["jurisdiction"] = "+".join([law, *raw.get("codes", [])]) if law else ""
    security = {k: raw.get(k) or "" for k in SECURITY}
    if any(security.values()):
        fields["public_security"] = security
    written = {k: raw.get(k) or "" for k in PIA}
    if any(written.values()):
        fields["pia"] = written
    if only is not None:
        fields = {k: v for k, v in fields.items() if k in only}
    return fields


@dataclass(frozen=True)
class RuleView:
    id: str
    source: str
    plain: str


def cited(rule_ids: tuple[str, ...] | list[str]) -> list[RuleView]:
    """The rules a refusal cites, with the article (the catalogue's source) and in words."""
    out = []
    for rule_id in rule_ids:
        text = text_of(rule_id)
        out.append(RuleView(rule_id, text.source if text else "", text.plain if text else ""))
    return out


def problem_of(err: FacegateError) -> dict[str, Any]:
    """A refusal or a bad answer as the pages show it beside the form: the message, the
    rules it cites with their articles, and the advice (what would make it lawful)."""
    denied = isinstance(err, PolicyDenied)
    return {
        "refused": denied,
        "message": err.message,
        "advice": err.advice or "",
        "rules": cited(err.rule_ids) if isinstance(err, PolicyDenied) else [],
    }
