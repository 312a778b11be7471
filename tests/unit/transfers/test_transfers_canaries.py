"""Canaries: a function of the export key, far from every face, with ids like everyone's."""

from __future__ import annotations

import os

import numpy as np

from facegate.transfers.canaries import (
    MAX_CANARIES,
    MIN_CANARIES,
    RADIUS,
    canary_count,
    canary_embeddings,
    canary_ids,
    distance_from_mean,
    row_id,
)


def test_canaries_are_fixed_by_the_key_and_lie_at_the_radius() -> None:
    seed = os.urandom(32)
    a, b = canary_embeddings(seed, 8), canary_embeddings(seed, 8)
    assert np.array_equal(a, b) and not np.array_equal(a, canary_embeddings(os.urandom(32), 8))
    assert all(abs(distance_from_mean(c) - RADIUS) < 1e-9 for c in a)
    pairwise = np.linalg.norm(a[:, None] - a[None, :], axis=2)[np.triu_indices(8, 1)]
    assert pairwise.min() > 1.0  # nor do canaries match each other


def test_counts_and_ids() -> None:
    assert (canary_count(0), canary_count(10**6)) == (MIN_CANARIES, MAX_CANARIES)
    key = os.urandom(32)
    ids = canary_ids(key, 5)
    assert len(set(ids)) == 5 and all(len(i) == len(row_id(key, "p" * 32)) for i in ids)
    assert row_id(key, "x") != row_id(os.urandom(32), "x")
