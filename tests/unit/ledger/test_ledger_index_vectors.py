"""The committed index vectors: facegate's checker and the court's agree, case by case."""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from facegate.ledger import evidence_complete as court
from facegate.ledger import index_proofs
from facegate.ledger.evidence_findings import BundleInvalid
from facegate.ledger.index_hasher import key_hash
from facegate.ledger.index_proofs import (
    IndexProof,
    history_in,
    verify_history,
    verify_index_proof,
)
from facegate.ledger.index_tree import IndexBuilder
from facegate.ledger.proofs import ProofError

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


@cache
def vectors() -> Any:
    return json.loads((VECTORS / "index_proofs.json").read_text(encoding="utf-8"))


def _proof(case: dict[str, Any]) -> IndexProof:
    return IndexProof(
        key_hash(case["key"]["kind"], case["key"]["value"]),
        case["size"],
        bytes.fromhex(case["records"]),
        tuple(bytes.fromhex(h) for h in case["path"]),
    )


def _entries(case: dict[str, Any]) -> list[tuple[int, bytes]]:
    return [(i, bytes.fromhex(h)) for i, h in case["entries"]]


def _court_check(case: dict[str, Any]) -> None:
    """What the offline verifier does with a bundle's proof and entries (ordered, below size)."""
    key = court.key_hash(case["key"]["kind"], case["key"]["value"])
    path = [bytes.fromhex(h) for h in case["path"]]
    count, chain = court.claimed_history(
        key, bytes.fromhex(case["records"]), path, bytes.fromhex(case["root"])
    )
    entries = _entries(case)
    indices = [i for i, _ in entries]
    if indices != sorted(set(indices)) or any(i >= case["size"] for i in indices):
        raise BundleInvalid("entries out of order")
    if len(entries) != count or court.chain_of(entries) != chain:
        raise BundleInvalid("history mismatch")


def test_the_file_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "facegate_index_vectors", VECTORS / "generate_index.py"
    )
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    text = module.render(module.build())
    assert (VECTORS / "index_proofs.json").read_text(encoding="utf-8") == text


def test_roots_rebuild_from_the_log() -> None:
    builder = IndexBuilder()
    roots = {r["size"]: r["root"] for r in vectors()["roots"]}
    for i, text in enumerate(vectors()["log"]):
        builder.add_leaf(i, text.encode())
        if builder.size in roots:
            assert builder.root().hex() == roots[builder.size]


@pytest.mark.parametrize("case", vectors()["valid"], ids=lambda c: c["id"])
def test_valid_cases_pass_both_checkers(case: dict[str, Any]) -> None:
    proof = _proof(case)
    verify_index_proof(proof, bytes.fromhex(case["root"]))
    verify_history(proof, _entries(case))
    assert history_in(proof).count == len(case["entries"])
    _court_check(case)


@pytest.mark.parametrize("case", vectors()["invalid"], ids=lambda c: c["id"])
def test_invalid_cases_fail_both_checkers(case: dict[str, Any]) -> None:
    proof = _proof(case)
    with pytest.raises(ProofError) as err:
        verify_index_proof(proof, bytes.fromhex(case["root"]))
        verify_history(proof, _entries(case))
    assert isinstance(err.value, getattr(index_proofs, case["error"]))
    assert "expected" in err.value.message and "computed" in err.value.message
    with pytest.raises(BundleInvalid):
        _court_check(case)


def test_every_kind_of_failure_is_covered() -> None:
    errors = {c["error"] for c in vectors()["invalid"]}
    assert errors == {"RootMismatchError", "MalformedProofError", "HistoryMismatchError"}
    kinds = {c["id"].split(": ")[1] for c in vectors()["invalid"]}
    assert {"entry left out", "entries swapped", "older proof", "records swapped"} <= kinds
