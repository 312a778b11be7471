"""Verification and unlinkability figures from comparison scores (higher = more alike).

* :func:`kfold_accuracy` - the LFW protocol: for each fold, the threshold that is best on the
  other folds, applied to this one; the mean over folds.
* :func:`eer`, :func:`tar_at_far`, :func:`rates_at` - the usual error rates.
* :func:`dsys` - global unlinkability D<->sys of Gomez-Barrero et al., "General framework to
  evaluate unlinkability in biometric template protection systems", IEEE TIFS 13(6), 2018:
  0 when mated and non-mated cross-key scores are distributed alike, 1 when every mated pair
  can be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Rates",
    "best_threshold",
    "dsys",
    "eer",
    "kfold_accuracy",
    "rates_at",
    "tar_at_far",
]

F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Rates:
    """Error rates at one threshold (a score >= threshold is called a match)."""

    threshold: float
    accuracy: float
    false_match_rate: float
    false_non_match_rate: float


def _check(scores: F64, same: Bools) -> tuple[F64, Bools]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(same, dtype=bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores and labels differ in shape: {s.shape} vs {y.shape}")
    if not y.any() or y.all():
        raise ValueError("need both genuine and impostor comparisons")
    return s, y


def best_threshold(scores: F64, same: Bools) -> float:
    """The threshold with the highest accuracy on these scores (midway between two scores)."""
    s, y = _check(scores, same)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # Accepting the top k: correct = genuine among them + impostors among the rest.
    genuine_in = np.concatenate([[0], np.cumsum(y_sorted)])
    impostor_in = np.concatenate([[0], np.cumsum(~y_sorted)])
    correct = genuine_in + (int((~y).sum()) - impostor_in)
    # Only cut between different scores: a threshold cannot split a tie.
    k_ok = np.ones(len(s) + 1, dtype=bool)
    k_ok[1:-1] = s_sorted[:-1] != s_sorted[1:]
    k = int(np.argmax(np.where(k_ok, correct, -1)))
    if k == 0:
        return float(s_sorted[0]) + 1e-9
    if k == len(s):
        return float(s_sorted[-1])
    return float((s_sorted[k - 1] + s_sorted[k]) / 2.0)


def rates_at(scores: F64, same: Bools, threshold: float) -> Rates:
    s, y = _check(scores, same)
    accept = s >= threshold
    return Rates(
        threshold=float(threshold),
        accuracy=float(np.mean(accept == y)),
        false_match_rate=float(np.mean(accept[~y])),
        false_non_match_rate=float(np.mean(~accept[y])),
    )


def kfold_accuracy(scores: F64, same: Bools, folds: Ints) -> float:
    """Mean accuracy over folds, each at the threshold chosen on the other folds."""
    s, y = _check(scores, same)
    f = np.asarray(folds)
    if f.shape != s.shape:
        raise ValueError("one fold number per comparison")
    accs = []
    for fold in np.unique(f):
        test = f == fold
        train = ~test
        if not test.any() or not y[train].any() or y[train].all():
            continue
        t = best_threshold(s[train], y[train])
        accs.append(float(np.mean((s[test] >= t) == y[test])))
    if not accs:
        raise ValueError("no fold could be evaluated")
    return float(np.mean(accs))


def eer(genuine: F64, impostor: F64) -> float:
    """The equal error rate: where the false-match and false-non-match rates cross."""
    g, i = np.sort(np.asarray(genuine, float)), np.sort(np.asarray(impostor, float))
    if not g.size or not i.size:
        raise ValueError("need genuine and impostor scores")
    cuts = np.unique(np.concatenate([g, i, [np.inf]]))
    fnmr = np.searchsorted(g, cuts, side="left") / g.size  # genuine below the cut
    fmr = 1.0 - np.searchsorted(i, cuts, side="left") / i.size  # impostors at/above
    diff = fmr - fnmr  # falls from positive to negative
    k = int(np.argmax(diff <= 0))
    if k == 0:
        return float((fmr[0] + fnmr[0]) / 2.0)
    # interpolate linearly between the last cut above and the first at/below the crossing
    d0, d1 = diff[k - 1], diff[k]
    w = d0 / (d0 - d1) if d0 != d1 else 0.5
    a = fmr[k - 1] + w * (fmr[k] - fmr[k - 1])
    b = fnmr[k - 1] + w * (fnmr[k] - fnmr[k - 1])
    return float((a + b) / 2.0)


def tar_at_far(genuine: F64, impostor: F64, far: float) -> float | None:
    """The share of genuine scores accepted at the strictest threshold whose false-accept
    rate is at most ``far``; None when fewer than ``1 / far`` impostor scores exist, since the
    rate cannot then be measured."""
    g, i = np.asarray(genuine, float), np.sort(np.asarray(impostor, float))[::-1]
    if not g.size:
        raise ValueError("need genuine scores")
    if i.size < round(1.0 / far):
        return None
    allowed = int(np.floor(far * i.size))  # impostors that may score above the threshold
    threshold = i[allowed]  # accept strictly above the first impostor not allowed through
    return float(np.mean(g > threshold))


def dsys(mated: F64, non_mated: F64, *, omega: float = 1.0, bins: int | None = None) -> float:
    """Global linkability D<->sys (Gomez-Barrero et al. 2018), in [0, 1].

    ``mated``: scores between templates of the same person made under two different keys;
    ``non_mated``: of different people under two different keys. The score densities are
    estimated with histograms of ``bins`` bins over the common range (default: a tenth of the
    mated count, at most 100, as in the authors' reference code); the local measure
    ``D(s) = 2·ω·LR(s) / (1 + ω·LR(s)) - 1`` where the likelihood ratio exceeds 1/ω (else 0,
    and 1 where only mated scores fall) is integrated against the mated density.
    """
    m, n = np.asarray(mated, float), np.asarray(non_mated, float)
    if m.size < 2 or n.size < 2:
        raise ValueError("need at least two mated and two non-mated scores")
    nbins = bins if bins is not None else max(1, min(m.size // 10, 100))
    lo, hi = float(min(m.min(), n.min())), float(max(m.max(), n.max()))
    if hi <= lo:
        return 0.0
    edges = np.linspace(lo, hi, nbins + 1)
    centres = (edges[1:] + edges[:-1]) / 2.0
    pm = np.histogram(m, bins=edges, density=True)[0]
    pn = np.histogram(n, bins=edges, density=True)[0]
    lr = np.divide(pm, pn, out=np.ones_like(pm), where=pn > 0)
    local = np.where(omega * lr > 1.0, 2.0 * omega * lr / (1.0 + omega * lr) - 1.0, 0.0)
    local[(pn == 0) & (pm > 0)] = 1.0
    if nbins == 1:
        return float(local[0])
    return float(np.clip(np.trapezoid(local * pm, x=centres), 0.0, 1.0))
