"""Issue 12 item 8: schemathesis against the OpenAPI document, on SQLite and PostgreSQL.

Seeded (``derandomize``) and bounded (``max_examples`` per operation), so it is part of the
suite. Every answer must be documented (status code, content type, body schema) and none may
be a server error. It covers every route in the document: the tags of ``TAGS`` must be all
the document's tags, so a route added under a new tag fails here until it is listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from lawful import consent, live
from schemathesis.specs.openapi.checks import positive_data_acceptance

from facegate.api.app import create_app
from facegate.api.routes.subject import limiter
from facegate.config import ApiSettings
from facegate.gate import Gate

#: cases run and server errors seen, per database, printed at the end (pytest -s)
SEEN: Counter[str] = Counter()
TAGS = [
    "operator", "principals", "public", "subject", "ledger", "witness", "tlog-tiles", "meta",
    "transfers", "recognition", "compreface", "encrypted",
]  # fmt: skip
EXAMPLES = 40
#: one check skipped on one operation each, and why: each is a rule between fields (or
#: between a field and the data) that OpenAPI cannot state, answered with a documented 400
KNOWN: dict[tuple[str, str], tuple[Any, str]] = {
    # a deployment's facts are judged against each other and the packs named in it: capture
    # is required once identify is declared, retention within the pack's maximum, the
    # jurisdiction a '+'-joined list of installed packs, cn needs alternative_penalty, eu
    # law_enforcement: relations between fields, answered with a documented 400 naming them
    ("POST", "/v1/deployments"): (positive_data_acceptance, "facts judged together"),
    # likewise a consent: a written method needs form_sha256; an age or the attestation of
    # adulthood, exactly one; a child a guardian and the guardian's form
    ("POST", "/v1/deployments/{deployment_id}/consents"): (
        positive_data_acceptance,
        "facts the method needs",
    ),
    # "exactly one of deployment and pseudonym" is a rule OpenAPI cannot state for query
    # parameters: both absent is schema-valid and rightly a documented 400
    ("GET", "/v1/ledger/evidence"): (positive_data_acceptance, "exactly one of two"),
    # likewise old <= new <= the tree's size, and index < size: relations between
    # parameters (and the data), answered with a documented 400
    ("GET", "/v1/ledger/consistency"): (positive_data_acceptance, "old <= new <= size"),
    ("GET", "/v1/ledger/inclusion"): (positive_data_acceptance, "index < size"),
    # a signed note (C2SP) is text no schema can describe: a malformed one is a 400
    ("POST", "/v1/ledger/cosignatures"): (positive_data_acceptance, "a signed note"),
    # transfers (issue 14): an agreement must end in the future; a written consent needs
    # its form's hash; a share or export names its people or says everyone, one of the two
    ("POST", "/v1/deployments/{deployment_id}/recipients"): (
        positive_data_acceptance,
        "an end in the future",
    ),
    ("POST", "/v1/deployments/{deployment_id}/transfer-consents"): (
        positive_data_acceptance,
        "facts the method needs",
    ),
    ("POST", "/v1/deployments/{deployment_id}/shares"): (positive_data_acceptance, "one of two"),
    ("POST", "/v1/deployments/{deployment_id}/exports"): (positive_data_acceptance, "one of two"),
}


def _app(gate: Gate) -> Any:
    dep = live(gate, name="Lobby").id
    consent(gate, dep, "alice")  # so the ledger has entries, proofs and a pseudonym
    app = create_app(gate)
    # one client address sends every case: the limits are tested in test_api_limits.py
    app.state.subject_limiter = limiter(
        ApiSettings(subject_rate_per_address=10**6, subject_rate_per_code=10**6)
    )
    return app


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {dict(SEEN)}")


def test_every_tag_of_the_document_is_fuzzed(sqlite_gate: Gate) -> None:
    document = create_app(sqlite_gate).openapi()
    tags = {tag for path in document["paths"].values() for op in path.values()
            for tag in op.get("tags", ["(none)"])}  # fmt: skip
    assert tags == set(TAGS), "add the new tag to TAGS (and its routes' errors to documented())"
    for (method, path), _ in KNOWN.items():
        assert method.lower() in document["paths"].get(path, {}), f"stale KNOWN {method} {path}"


def test_documented_answers_and_no_server_errors(gate: Gate, db: str) -> None:
    """Each operation gets ``EXAMPLES`` seeded cases (schemathesis's pytest loader does not
    run under pytest 9, so each operation's strategy is driven with Hypothesis here). Every
    operation runs even after one fails, and the failures are reported together."""
    auth = {"Authorization": f"Bearer {gate.issue_api_key(label='fuzz').key}"}
    app = _app(gate)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(tag=TAGS)
    operations = [result.ok() for result in schema.get_all_operations()]
    tagged = [op for ops in app.openapi()["paths"].values() for op in ops.values()
              if set(op.get("tags", ())) & set(TAGS)]  # fmt: skip
    assert len(operations) == len(tagged)  # every route of the tags (all: the test above)
    failures: list[str] = []
    for operation in operations:
        failure = _fuzz(operation, auth, db)
        if failure:
            failures.append(failure)
    assert SEEN[f"{db} 5xx"] == 0
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, auth: dict[str, str], db: str) -> str | None:
    """Run one operation's cases; the first failure as text (None if there is none)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers=auth)
        SEEN[f"{db} cases"] += 1
        if response.status_code >= 500:
            SEEN[f"{db} 5xx"] += 1
        known = KNOWN.get((case.method.upper(), case.path))
        case.validate_response(response, excluded_checks=[known[0]] if known else None)

    try:
        check()
    except BaseExceptionGroup as failure:  # schemathesis's FailureGroup
        return f"{operation.method.upper()} {operation.path}: {failure}"
    return None


@pytest.fixture
def db(settings: object) -> str:
    return "postgres" if getattr(settings, "database_url", None) else "sqlite"
