"""Live counts for regulators, filings and reports, computed inside the database.

"People" are counted per deployment: templates are keyed per deployment and cannot be
linked across deployments (ISO-24745 unlinkability, by design), so one person enrolled in
two deployments of an operator counts twice. Operator totals are therefore an upper bound
on distinct people, which errs on the side of filing (CN-FR-15).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from facegate._internal.canonical import canonical_json
from facegate.storage import tables as t

PEOPLE_PROXY_NOTE = (
    "people are counted per deployment (subjects holding at least one stored template); "
    "templates cannot be linked across deployments, so a person in two deployments counts "
    "twice and the operator's total is an upper bound on distinct people"
)


@dataclass(frozen=True)
class DeploymentCounts:
    deployment_id: str
    subjects: int  # people known to the deployment (each has consented)
    people_stored: int  # of those, people with at least one stored template
    templates: int
    consents: int
    events: Mapping[str, int]  # ledger events about the deployment, by kind

    @property
    def events_total(self) -> int:
        return sum(self.events.values())


def deployment_counts(s: Session, deployment_id: str) -> DeploymentCounts:
    def count(column: InstrumentedAttribute[str]) -> int:
        return s.scalar(select(func.count()).where(column == deployment_id)) or 0

    return DeploymentCounts(
        deployment_id=deployment_id,
        subjects=count(t.Subject.deployment_id),
        people_stored=s.scalar(
            select(func.count(func.distinct(t.Template.subject_id))).where(
                t.Template.deployment_id == deployment_id
            )
        )
        or 0,
        templates=count(t.Template.deployment_id),
        consents=count(t.Consent.deployment_id),
        events=events_by_kind(s, deployment_id),
    )


def people_by_deployment(s: Session, *, operator_id: str) -> dict[str, int]:
    """People with at least one stored template, per deployment of the operator."""
    rows = s.execute(
        select(t.Template.deployment_id, func.count(func.distinct(t.Template.subject_id)))
        .join(t.Deployment, t.Deployment.id == t.Template.deployment_id)
        .where(t.Deployment.operator_id == operator_id)
        .group_by(t.Template.deployment_id)
    )
    return {dep: n for dep, n in rows}


def people_stored(s: Session, *, operator_id: str) -> int:
    """People whose face data the operator currently stores (see the module's note)."""
    return (
        s.scalar(
            select(func.count(func.distinct(t.Template.subject_id)))
            .join(t.Deployment, t.Deployment.id == t.Template.deployment_id)
            .where(t.Deployment.operator_id == operator_id)
        )
        or 0
    )


def nth_person_since(s: Session, *, operator_id: str, n: int) -> datetime | None:
    """When the ``n``-th of the people stored now got their first template: the moment the
    operator reached ``n`` people, as far as the data still held can tell."""
    first = (
        select(func.min(t.Template.created_at).label("first"))
        .join(t.Deployment, t.Deployment.id == t.Template.deployment_id)
        .where(t.Deployment.operator_id == operator_id)
        .group_by(t.Template.subject_id)
        .subquery()
    )
    return s.scalar(select(first.c.first).order_by(first.c.first).offset(n - 1).limit(1))


def events_by_kind(s: Session, deployment_id: str) -> dict[str, int]:
    """Ledger events whose ``deployment`` is ``deployment_id``, counted by kind.

    Leaves are canonical JSON, so the key and value appear byte for byte as
    ``"deployment":"<id>"``; the database matches that without parsing every leaf.
    """
    marker = canonical_json({"deployment": deployment_id})[1:-1]
    rows = s.execute(
        select(t.LedgerEntry.kind, func.count())
        .where(_leaf_holds(s, marker))
        .group_by(t.LedgerEntry.kind)
        .order_by(t.LedgerEntry.kind)
    )
    return {kind: n for kind, n in rows}


def _leaf_holds(s: Session, needle: bytes) -> ColumnElement[bool]:
    """``needle`` occurs in a ledger leaf. SQLite's LIKE never matches a BLOB, so it uses
    ``instr``; PostgreSQL matches ``bytea`` with LIKE, whose default escape character is the
    backslash (wildcards in the needle are escaped with it)."""
    data = t.LedgerEntry.data
    if s.get_bind().dialect.name == "sqlite":
        return func.instr(data, needle) > 0
    for char in (b"\\", b"%", b"_"):
        needle = needle.replace(char, b"\\" + char)
    return data.op("LIKE", is_comparison=True)(b"%" + needle + b"%")
