"""Attribution statistics: the binomial tail, the floor, and verdicts on made-up keys."""

from __future__ import annotations

import math
import os

import numpy as np

from facegate.templates import get_scheme
from facegate.transfers.reprotect import mask_of
from facegate.transfers.trace import (
    P_WRONG_KEY,
    Candidate,
    attribute,
    attribution_floor,
    log10_tail,
)


def test_the_tail_is_the_binomial_tail() -> None:
    n, p = 12, P_WRONG_KEY
    for k in range(n + 1):
        exact = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1))
        assert math.isclose(10 ** log10_tail(n, k), exact, rel_tol=1e-9)
    assert log10_tail(512, 512) < -700 and log10_tail(512, 0) == 0.0


def test_the_floor_allows_one_wrong_key_in_a_trillion() -> None:
    for n in (128, 512, 2048):
        k = attribution_floor(n)
        assert log10_tail(n, k) <= -12 < log10_tail(n, k - 1)
        assert k < n // 2  # a template with half its bytes flipped away still names its key


def _candidates(scheme_name: str, count: int) -> tuple[list[Candidate], list[bytes]]:
    scheme = get_scheme(scheme_name)
    seeds = [os.urandom(32) for _ in range(count)]
    return [Candidate(f"exp_{i}", "export", mask_of(scheme, s)) for i, s in enumerate(seeds)], seeds


def test_a_verdict_names_the_key_and_only_it() -> None:
    scheme = get_scheme("biohash-v1:4096")
    candidates, seeds = _candidates("biohash-v1:4096", 3)
    d = np.random.default_rng(1).standard_normal((5, 128))
    faces = np.asarray(get_scheme("biohash-v1").protect_many(d * 0.05, seeds[0]))  # any bytes
    made = scheme.protect_many(d * 0.05 + 0.0, seeds[1])
    verdict = attribute([bytes(r) for r in made[:2]], candidates)
    assert (verdict.label, verdict.attributed, verdict.counts) == ("exp_1", 2, {"exp_1": 2})
    assert verdict.evidence_log10 < -600 and verdict.confidence == 1.0
    noise = [os.urandom(512) for _ in range(50)]
    assert attribute(noise, candidates).label is None
    assert attribute([bytes(r) for r in faces], candidates).label is None  # other lengths


def test_bit_flips_that_keep_a_match_keep_the_fingerprint() -> None:
    scheme = get_scheme("biohash-v1:4096")
    candidates, seeds = _candidates("biohash-v1:4096", 2)
    d = np.random.default_rng(2).standard_normal((10, 128))
    made = scheme.protect_many(np.asarray(d * 0.05), seeds[0])
    bits = np.unpackbits(made, axis=1)
    flips = np.random.default_rng(3).random(bits.shape) < 0.10  # similarity 0.9 at most
    noisy = np.packbits(bits ^ flips, axis=1)
    assert attribute([bytes(r) for r in noisy], candidates).counts == {"exp_0": 10}
