"""Evidence bundles: one self-contained JSON document that a court can check offline.

A bundle holds, for one person (by pseudonym) or one deployment:

* ``log``: the origin, the operator's checkpoint verifier key, one signed checkpoint with
  every witness cosignature the operator received on it, and those witnesses' keys;
* ``entries``: each event as the exact leaf bytes (base64) with its RFC 9162 inclusion
  proof (hex hashes, leaf end first) in the tree of the checkpoint's size;
* ``completeness``: the proof from the verifiable index that these are all the events about
  the bundle's person or deployment up to the checkpoint's size (see :mod:`.index_proofs`);
* ``notices``, ``documents``, ``receipts``: the texts and records the events commit to by hash,
  and the signed consent receipts, so the verifier can check them against the log;
* ``deployments``: the operator's account of each deployment; the verifier checks each field
  the log also states and lists the others as not authenticated.

This module only assembles; :mod:`facegate.flows.evidence` gathers the parts from the
database, and :mod:`facegate.ledger.evidence_verify` checks a bundle without facegate's help.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from facegate.ledger.evidence_findings import BUNDLE_FORMAT
from facegate.ledger.index_proofs import IndexProof
from facegate.ledger.proofs import InclusionProof

__all__ = ["BUNDLE_FORMAT", "BundleParts", "bundle_json", "completeness_json", "make_bundle"]


@dataclass(frozen=True)
class BundleParts:
    """Everything a bundle carries, gathered by the exporter (or, in tests, by hand)."""

    origin: str
    verifier_key: str
    checkpoint: str
    entries: Sequence[tuple[bytes, InclusionProof]]
    scope: Mapping[str, str | None]
    created_at: datetime
    witnesses: Sequence[str] = ()
    notices: Sequence[Mapping[str, Any]] = ()
    deployments: Sequence[Mapping[str, Any]] = ()
    receipts: Sequence[Mapping[str, Any]] = ()
    notes: Sequence[str] = field(default_factory=tuple)
    documents: Sequence[Mapping[str, Any]] = ()
    completeness: IndexProof | None = None


def make_bundle(parts: BundleParts) -> dict[str, Any]:
    """The bundle as a JSON-ready dict. Proofs must all be in the tree of the checkpoint."""
    sizes = {proof.size for _, proof in parts.entries}
    if parts.completeness is not None:
        sizes.add(parts.completeness.size)
    if len(sizes) > 1:
        raise ValueError(f"all proofs must be in one tree size, got {sorted(sizes)}")
    bundle = {
        "format": BUNDLE_FORMAT,
        "created_at": parts.created_at.isoformat(),
        "scope": dict(parts.scope),
        "log": {
            "origin": parts.origin,
            "verifier_key": parts.verifier_key,
            "checkpoint": parts.checkpoint,
            "witnesses": list(parts.witnesses),
        },
        "entries": [
            {
                "index": proof.index,
                "leaf": base64.b64encode(leaf).decode("ascii"),
                "proof": [h.hex() for h in proof.hashes],
            }
            for leaf, proof in sorted(parts.entries, key=lambda e: e[1].index)
        ],
        # Deep copies: a bundle must not share mutable parts with its caller's objects.
        "notices": copy.deepcopy([dict(n) for n in parts.notices]),
        "deployments": copy.deepcopy([dict(d) for d in parts.deployments]),
        "receipts": copy.deepcopy([dict(r) for r in parts.receipts]),
        "documents": copy.deepcopy([dict(d) for d in parts.documents]),
        "notes": list(parts.notes),
    }
    if parts.completeness is not None:
        bundle["completeness"] = completeness_json(parts.completeness, parts.scope)
    return bundle


def completeness_json(proof: IndexProof, scope: Mapping[str, str | None]) -> dict[str, Any]:
    """A completeness proof as a bundle carries it: the scope's key, the size, the bucket
    (base64) and the path (hex, bucket end first)."""
    (kind, value), *more = [(k, v) for k, v in scope.items() if v is not None]
    if more:
        raise ValueError("a bundle's scope names one person or one deployment")
    return {
        "key": {kind: value},
        "size": proof.size,
        "records": base64.b64encode(proof.records).decode("ascii"),
        "path": [h.hex() for h in proof.path],
    }


def bundle_json(bundle: Mapping[str, Any]) -> str:
    """Stable, readable JSON text for a bundle file."""
    return json.dumps(bundle, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
