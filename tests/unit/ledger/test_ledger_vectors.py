"""The committed JSON test vectors: every valid case passes, every invalid case fails."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from facegate.ledger import proofs
from facegate.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureVerifier,
    Signer,
    Verifier,
    open_checkpoint,
    verify_cosignatures,
)
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    ProofError,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from facegate.ledger.tree import MemoryNodeStore

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


@cache
def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def cases(name: str, *path: str) -> list[dict[str, Any]]:
    node = load(name)
    for key in path:
        node = node[key]
    assert node, f"no cases at {name}:{'/'.join(path)}"
    return list(node)


def case_id(case: dict[str, Any]) -> str:
    return str(case["id"])


def unhex(values: list[str]) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(v) for v in values)


def test_vector_files_are_small_and_current() -> None:
    total = sum(p.stat().st_size for p in VECTORS.glob("*.json"))
    assert total < 1_000_000
    spec = importlib.util.spec_from_file_location("facegate_vectors", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    for path, text in module.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run generate.py"


# --- Merkle proofs -------------------------------------------------------------------------


def test_vector_roots() -> None:
    trees = load("merkle_proofs.json")["trees"]
    data = {
        "ct": [bytes.fromhex(d) for d in trees["ct"]["leaf_data"]],
        "synthetic": [
            f"facegate vector leaf {i}".encode() for i in range(trees["synthetic"]["size"])
        ],
    }
    stores = {name: MemoryNodeStore.from_leaf_hashes(map(hash_leaf, d)) for name, d in data.items()}
    for case in load("merkle_proofs.json")["roots"]:
        assert stores[case["tree"]].root(case["size"]).hex() == case["root"]


INCLUSION_VALID = cases("merkle_proofs.json", "inclusion", "valid")
INCLUSION_INVALID = cases("merkle_proofs.json", "inclusion", "invalid")
CONSISTENCY_VALID = cases("merkle_proofs.json", "consistency", "valid")
CONSISTENCY_INVALID = cases("merkle_proofs.json", "consistency", "invalid")


def test_valid_inclusion_vectors() -> None:
    for case in INCLUSION_VALID:
        leaf = bytes.fromhex(case["leaf_hash"])
        assert hash_leaf(bytes.fromhex(case["leaf_data"])) == leaf
        proof = InclusionProof(case["leaf_index"], case["tree_size"], unhex(case["proof"]))
        root = bytes.fromhex(case["root"])
        verify_inclusion(leaf, proof, root)
        assert root_from_inclusion(leaf, proof) == root


def test_invalid_inclusion_vectors() -> None:
    for case in INCLUSION_INVALID:
        proof = InclusionProof(case["leaf_index"], case["tree_size"], unhex(case["proof"]))
        error = getattr(proofs, case["facegate_error"])
        with pytest.raises(ProofError) as err:
            verify_inclusion(bytes.fromhex(case["leaf_hash"]), proof, bytes.fromhex(case["root"]))
        assert isinstance(err.value, error), case["id"]


def test_valid_consistency_vectors() -> None:
    for case in CONSISTENCY_VALID:
        proof = ConsistencyProof(case["old_size"], case["new_size"], unhex(case["proof"]))
        verify_consistency(bytes.fromhex(case["old_root"]), bytes.fromhex(case["new_root"]), proof)


def test_invalid_consistency_vectors() -> None:
    for case in CONSISTENCY_INVALID:
        proof = ConsistencyProof(case["old_size"], case["new_size"], unhex(case["proof"]))
        error = getattr(proofs, case["facegate_error"])
        with pytest.raises(ProofError) as err:
            verify_consistency(
                bytes.fromhex(case["old_root"]), bytes.fromhex(case["new_root"]), proof
            )
        assert isinstance(err.value, error), case["id"]


def test_vectors_cover_every_kind_of_damage() -> None:
    mutations = {c["mutation"].split(" ")[0] for c in INCLUSION_INVALID + CONSISTENCY_INVALID}
    assert {"proof[0]", "last", "first", "root", "leaf", "tree", "old", "new", "empty"} <= (
        mutations
    )
    flipped = {c["mutation"] for c in INCLUSION_INVALID if c["id"].startswith("inclusion/ct/0/8")}
    assert {f"proof[{k}] bit 3 flipped" for k in range(3)} <= flipped


# --- checkpoints ---------------------------------------------------------------------------


def log_verifier() -> Verifier:
    key = load("checkpoints.json")["log_key"]
    verifier = Verifier.from_key(key["verifier_key"])
    assert Signer.from_key(key["signer_key"]).verifier() == verifier
    return verifier


def witnesses() -> list[CosignatureVerifier]:
    return [
        CosignatureVerifier.from_key(w["verifier_key"])
        for w in load("checkpoints.json")["witness_keys"]
    ]


@pytest.mark.parametrize("case", cases("checkpoints.json", "valid"), ids=case_id)
def test_valid_checkpoint_vectors(case: dict[str, Any]) -> None:
    want = case["checkpoint"]
    expected = Checkpoint(
        want["origin"],
        want["size"],
        base64.b64decode(want["root_hash"]),
        tuple(want["extensions"]),
    )
    assert open_checkpoint(case["note"], log_verifier()) == expected
    got = [
        {"name": c.name, "timestamp": c.timestamp}
        for c in verify_cosignatures(case["note"], witnesses())
    ]
    assert got == case["cosignatures"]
    if got:
        ws = witnesses()
        assert open_checkpoint(case["note"], log_verifier(), witnesses=ws, quorum=len(ws))


@pytest.mark.parametrize("case", cases("checkpoints.json", "invalid"), ids=case_id)
def test_invalid_checkpoint_vectors(case: dict[str, Any]) -> None:
    with pytest.raises(CheckpointError) as err:
        open_checkpoint(case["note"], log_verifier())
    assert type(err.value).__name__ == case["facegate_error"]
    assert case["level"] in {"must", "should", "facegate"}


@pytest.mark.parametrize("case", cases("checkpoints.json", "witness_invalid"), ids=case_id)
def test_witness_invalid_checkpoint_vectors(case: dict[str, Any]) -> None:
    open_checkpoint(case["note"], log_verifier())
    ws = witnesses()
    with pytest.raises(CheckpointError):
        open_checkpoint(case["note"], log_verifier(), witnesses=ws, quorum=len(ws))
