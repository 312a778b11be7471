"""The ISO/IEC 30136 figures: accuracy protocol, error rates, D<->sys."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facegate.evaluation import metrics


def test_kfold_accuracy_of_separable_scores() -> None:
    scores = np.array([0.9, 0.8, 0.85, 0.2, 0.1, 0.3] * 5)
    same = np.array([True, True, True, False, False, False] * 5)
    folds = np.arange(30) % 10
    assert metrics.kfold_accuracy(scores, same, folds) == 1.0


def test_kfold_threshold_comes_from_the_other_folds() -> None:
    # Fold 0 holds the only genuine pair scoring low: the threshold learnt elsewhere
    # (between 0.4 and 0.6) rejects it, so that fold is wrong on 1 of 2 comparisons.
    scores = np.array([0.1, 0.05, 0.7, 0.3, 0.8, 0.2, 0.9, 0.4])
    same = np.array([True, False, True, False, True, False, True, False])
    folds = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    assert metrics.kfold_accuracy(scores, same, folds) == pytest.approx((0.5 + 1 + 1 + 1) / 4)


def test_best_threshold_never_splits_ties() -> None:
    scores = np.array([0.5, 0.5, 0.5, 0.1])
    same = np.array([True, False, True, False])
    t = metrics.best_threshold(scores, same)
    accept = scores >= t
    assert accept[0] == accept[1] == accept[2]


def test_eer_of_gaussians_matches_theory() -> None:
    rng = np.random.default_rng(0)
    genuine = rng.normal(2.0, 1.0, 200_000)
    impostor = rng.normal(0.0, 1.0, 200_000)
    # the curves cross at 1.0: both error rates are P(Z > 1)
    assert metrics.eer(genuine, impostor) == pytest.approx(
        0.5 * math.erfc(1 / math.sqrt(2)), abs=3e-3
    )
    assert metrics.eer(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 0.0


def test_tar_at_far() -> None:
    impostor = np.arange(1000) / 1000.0  # 0.000 .. 0.999
    genuine = np.array([0.9985, 0.9995, 0.5])
    # FAR 1e-3 lets one impostor (0.999) through at most: accept above 0.998
    assert metrics.tar_at_far(genuine, impostor, 1e-3) == pytest.approx(2 / 3)
    assert metrics.tar_at_far(genuine, impostor, 1e-4) is None  # not measurable with 1000


def test_rates_at_threshold() -> None:
    r = metrics.rates_at(np.array([0.9, 0.4, 0.6, 0.1]), np.array([True, True, False, False]), 0.5)
    assert (r.accuracy, r.false_match_rate, r.false_non_match_rate) == (0.5, 0.5, 0.5)


def test_dsys_is_near_zero_for_one_distribution() -> None:
    rng = np.random.default_rng(1)
    mated, non_mated = rng.normal(0.5, 0.02, 20_000), rng.normal(0.5, 0.02, 20_000)
    assert metrics.dsys(mated, non_mated) < 0.03


def test_dsys_is_near_one_for_disjoint_distributions() -> None:
    rng = np.random.default_rng(2)
    mated, non_mated = rng.uniform(0.8, 1.0, 5000), rng.uniform(0.0, 0.2, 5000)
    assert metrics.dsys(mated, non_mated) > 0.95


def test_dsys_grows_with_the_overlap_lost() -> None:
    rng = np.random.default_rng(3)
    non_mated = rng.normal(0.5, 0.02, 20_000)
    values = [
        metrics.dsys(rng.normal(0.5 + shift, 0.02, 20_000), non_mated)
        for shift in (0.01, 0.02, 0.04)
    ]
    assert values == sorted(values) and values[0] > 0.1 and values[-1] > 0.6


def test_dsys_prior_ratio() -> None:
    rng = np.random.default_rng(4)
    mated, non_mated = rng.normal(0.52, 0.02, 20_000), rng.normal(0.5, 0.02, 20_000)
    # a prior against linkage (omega < 1) lowers the measure
    assert metrics.dsys(mated, non_mated, omega=0.5) < metrics.dsys(mated, non_mated)
