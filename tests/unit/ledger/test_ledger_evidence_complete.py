"""Completeness and authenticated facts in the offline verifier, on hand-built logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from evidence_forge import (
    DEP,
    OPERATOR,
    RECORD,
    ForgedLog,
    authenticated_view,
    edited,
    enroll,
    scalar_paths,
    verify,
)

from facegate.ledger.events import Kind
from facegate.ledger.evidence_verify import BundleInvalid, verify_bundle

ALICE = "a1" * 16
BOB = "b0" * 16


def _log(*, records: bool = True) -> tuple[ForgedLog, list[dict[str, object]]]:
    log = ForgedLog()
    log.deployment(records=records)
    receipt = log.consent(ALICE, 1)
    log.consent(BOB, 2)
    enroll(log, ALICE, 3)
    enroll(log, BOB, 4)
    verify(log, ALICE, 5)
    log.add(Kind.CONSENT_WITHDRAWN, 6, subject=ALICE, details={"templates_erased": 1})
    return log, [receipt]


def _alice_indices(log: ForgedLog) -> list[int]:
    return [i for i, leaf in enumerate(log.leaves) if json.loads(leaf)["subject"] == ALICE]


def _context(log: ForgedLog) -> list[int]:
    return [i for i, leaf in enumerate(log.leaves) if json.loads(leaf)["subject"] is None]


def _person(log: ForgedLog, receipts: list[dict[str, object]], drop: int | None = None) -> Any:
    chosen = sorted({*_context(log), *_alice_indices(log)} - {drop})
    return log.bundle(chosen, receipts=receipts, scope={"subject": ALICE})


def test_a_complete_person_bundle_says_so() -> None:
    log, receipts = _log()
    verdict = verify_bundle(_person(log, receipts), log_key=log.key)
    c = verdict.completeness
    assert c.proven and (c.kind, c.value, c.count, c.size) == ("subject", ALICE, 4, len(log.leaves))
    text = verdict.summary()
    assert f"COMPLETE: these are all 4 events about this person (subject {ALICE})" in text
    assert f"up to size {len(log.leaves)}" in text and "for context" in text
    assert verdict.to_dict()["complete"] is True


def test_a_deployment_bundle_counts_every_event_of_the_deployment() -> None:
    log, receipts = _log()
    verdict = verify_bundle(log.bundle(receipts=receipts), log_key=log.key)
    assert verdict.completeness.count == len(log.leaves) - 1  # all but operator.created
    assert "these are all 8 events about this deployment" in verdict.summary()


@pytest.mark.parametrize("which", [0, 1, -1])
def test_leaving_out_any_event_about_the_person_is_caught(which: int) -> None:
    log, receipts = _log()
    dropped = _alice_indices(log)[which]
    with pytest.raises(BundleInvalid, match="the log holds 4 events about this subject"):
        verify_bundle(_person(log, receipts, drop=dropped), log_key=log.key)


def test_a_stale_stripped_or_foreign_completeness_proof_is_caught() -> None:
    log, receipts = _log()
    old = _person(log, receipts)
    verify(log, ALICE, 7)
    new = _person(log, receipts)
    stale = {**new, "completeness": old["completeness"]}
    with pytest.raises(BundleInvalid, match="stale index"):
        verify_bundle(stale, log_key=log.key)
    old_records = {**new["completeness"], "records": old["completeness"]["records"]}
    with pytest.raises(BundleInvalid, match="stale or altered"):
        verify_bundle({**new, "completeness": old_records}, log_key=log.key)
    stripped = {k: v for k, v in new.items() if k != "completeness"}
    with pytest.raises(BundleInvalid, match="no completeness proof"):
        verify_bundle(stripped, log_key=log.key)
    for scope in ({"subject": BOB}, {"subject": ALICE, "deployment": DEP}, {}):
        with pytest.raises(BundleInvalid):
            verify_bundle({**new, "scope": scope}, log_key=log.key)


def test_a_head_without_an_index_proves_no_completeness() -> None:
    log, receipts = _log()
    verdict = verify_bundle(
        log.bundle(receipts=receipts, indexed=False, scope={"subject": ALICE}), log_key=log.key
    )
    assert not verdict.completeness.proven
    text = verdict.summary()
    assert "COMPLETENESS NOT PROVEN" in text and "scope not proven" in text
    assert any(line.startswith("scope:") for line in verdict.unauthenticated)
    with_proof = log.bundle(receipts=receipts, indexed=False)
    with_proof["completeness"] = log.bundle(receipts=receipts)["completeness"]
    with pytest.raises(BundleInvalid, match="has no index"):
        verify_bundle(with_proof, log_key=log.key)


def test_facts_come_from_the_records_the_log_commits_to() -> None:
    log, receipts = _log()
    verdict = verify_bundle(log.bundle(receipts=receipts), log_key=log.key)
    facts = verdict.deployments[DEP]
    assert facts["legal_basis"] == RECORD["legal_basis"]
    assert facts["operator.contact"] == OPERATOR["contact"]
    assert "record" in verdict.sources[DEP]["legal_basis"]
    text = verdict.summary()
    assert 'legal_basis: "consent"' in text and "Record deployment" in text
    loose = "\n".join(verdict.unauthenticated)
    assert "created_at" in loose and "legal_basis" not in loose


def test_facts_no_record_vouches_for_are_shown_as_not_authenticated() -> None:
    log, receipts = _log(records=False)
    bundle = log.bundle(receipts=receipts)
    bundle["deployments"][0]["legal_basis"] = "anything the operator likes"
    verdict = verify_bundle(bundle, log_key=log.key)
    assert "legal_basis" not in verdict.deployments[DEP]
    head, tail = verdict.summary().split("NOT AUTHENTICATED")
    assert "anything the operator likes" not in head and "anything the operator likes" in tail


@pytest.mark.parametrize(
    ("where", "value", "match"),
    [
        (("deployments", 0, "name"), "Other", "the log says"),
        (("deployments", 0, "operator", "name"), "Others Ltd", "the log says"),
        (("documents", 0, "body", "legal_basis"), "none", "was altered"),
        (("documents", 1, "kind"), "other", "was altered"),
    ],
)
def test_a_fact_that_contradicts_its_record_is_refused(
    where: tuple[Any, ...], value: str, match: str
) -> None:
    log, receipts = _log()
    bundle = log.bundle(receipts=receipts)
    node = bundle
    for step in where[:-1]:
        node = node[step]
    node[where[-1]] = value
    with pytest.raises(BundleInvalid, match=match):
        verify_bundle(bundle, log_key=log.key)


def test_every_single_value_edit_is_caught_or_shown_as_not_authenticated() -> None:
    for records in (True, False):
        log, receipts = _log(records=records)
        bundle = _person(log, receipts)
        reference = authenticated_view(verify_bundle(bundle, log_key=log.key))
        paths = scalar_paths(bundle)
        assert len(paths) >= 40
        for path in paths:
            try:
                verdict = verify_bundle(edited(bundle, path), log_key=log.key)
            except BundleInvalid:
                continue
            assert authenticated_view(verdict) == reference, path
