"""Lawful set-ups for the transfer tests: a live deployment whose data may leave, people who
consented (or not) to it leaving, enrolled from real photos, and a recipient whose agreement
states every term. Tests change exactly the fact the rule is about."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from lawful import consent, form, live

from facegate.gate import Gate
from facegate.results import DeploymentInfo
from facegate.transfers.results import RecipientInfo

Photo = Callable[[str], bytes]
#: two photos each of three people (the first of each is enrolled)
PEOPLE = {
    "obama": ("fixtures/obama.jpg", "fixtures/obama2.jpg"),
    "biden": ("fixtures/biden.jpg", "fixtures/knn/train/biden/biden2.jpg"),
    "hopkins": ("fixtures/Anthony_Hopkins_0001.jpg", "fixtures/Anthony_Hopkins_0002.jpg"),
}


def agreement(**changes: Any) -> dict[str, Any]:
    """A lawful agreement with a domestic processor, every term stated."""
    terms: dict[str, Any] = {
        "name": "New Property Co",
        "contact": "+86 21 5555 0199, privacy@newproperty.example",
        "role": "processor",
        "country": "CN",
        "purpose": "Residents open the compound gate with their face",
        "same_purpose": True,
        "retention_days": 365,
        "irrevocable": False,
        "for_profit": False,
        "mechanism": "none",
        "max_people": 1000,
        "agreement_sha256": form("processing agreement"),
        "ends_at": datetime.now(UTC) + timedelta(days=365),
    }
    return {**terms, **changes}


def recipient(gate: Gate, dep: DeploymentInfo, **changes: Any) -> RecipientInfo:
    return gate.add_recipient(dep.id, **agreement(**changes))


def people(
    gate: Gate,
    dep: DeploymentInfo,
    photo: Photo,
    names: Sequence[str] = ("obama",),
    **consent_changes: Any,
) -> list[str]:
    """Consent (with ``consent_changes``) and enroll each person's first photo."""
    for name in names:
        consent(gate, dep.id, name, **consent_changes)
        gate.enroll(dep.id, name, photo(PEOPLE[name][0]))
    return list(names)


def ready(
    gate: Gate,
    photo: Photo,
    names: Sequence[str] = ("obama",),
    *,
    dep_changes: dict[str, Any] | None = None,
    **consent_changes: Any,
) -> DeploymentInfo:
    """A live deployment whose data may leave (egress declared), with ``names`` enrolled."""
    dep = live(gate, **{"egress": True, **(dep_changes or {})})
    people(gate, dep, photo, names, **consent_changes)
    return dep


def rows(file: bytes) -> list[tuple[str, bytes]]:
    """(id, template) of each row of an export file."""
    doc = json.loads(file)
    return [(r["id"], base64.b64decode(r["template"])) for r in doc["rows"]]


def matrix(templates: Sequence[bytes]) -> np.ndarray:  # type: ignore[type-arg]
    return np.frombuffer(b"".join(templates), dtype=np.uint8).reshape(len(templates), -1)


def leaves(gate: Gate, kind: str) -> list[dict[str, Any]]:
    """Every ledger leaf of ``kind``, oldest first."""
    size = gate.counts()["ledger_entries"]
    found = [
        json.loads(e.data)
        for start in range(0, size, 1000)
        for e in gate.ledger_entries(start, size)
    ]
    return [leaf for leaf in found if leaf["kind"] == kind]
