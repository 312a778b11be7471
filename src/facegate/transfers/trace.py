"""Which export a leaked template came from, and how sure that is.

Under its own export's mask every byte of a template unmasks to one of the 9 thermometer
codes (:func:`facegate.transfers.reprotect.valid_bytes`); under a mask it was not made with,
a uniform secret independent of the template, each byte does so with probability exactly
p0 = 9/256, independently of the other bytes (the mask's bytes are independent). So for one
template of B bytes the count of valid bytes under a wrong key is Binomial(B, p0), exactly,
whatever the face: a template is attributed when its count reaches :func:`attribution_floor`
(the count a wrong key reaches with probability at most 1e-12), and a whole file's false
attribution is bounded by the union over its templates and every candidate key. Bit flips
made to hide the origin lower the count slowly (a byte survives 10% flips with probability
0.43), and a template flipped enough to lose its fingerprint no longer matches its owner.

Re-ordering, dropping rows and re-encoding change nothing: each template is judged alone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.transfers.reprotect import VALID_CODES, valid_bytes

__all__ = ["P_WRONG_KEY", "Candidate", "Verdict", "attribute", "attribution_floor", "log10_tail"]

U8 = npt.NDArray[np.uint8]

#: the chance that one byte unmasks to a valid code under a key it was not made with
P_WRONG_KEY: Final = len(VALID_CODES) / 256
#: the per-template false attribution a floor allows
_FLOOR_LOG10: Final = -12.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A key a leaked template may have been made under: an export's, or a deployment's."""

    label: str  # an export id, or a deployment id
    kind: str  # "export" or "deployment"
    mask: U8


@dataclass(frozen=True, slots=True)
class Verdict:
    label: str | None
    kind: str | None
    templates: int
    attributed: int
    #: templates attributed to each candidate
    counts: dict[str, int]
    #: log10 of a bound on the chance that any template would be attributed to a key it
    #: was not made under (union over templates and candidates, at the floor)
    false_attribution_log10: float
    #: log10 of a bound on the chance that the named key is a coincidence: that any
    #: template reaches, under a wrong key, the count the strongest one reached
    evidence_log10: float

    @property
    def confidence(self) -> float:
        return 0.0 if self.label is None else 1.0 - 10.0**self.evidence_log10


def log10_tail(n: int, k: int, p: float = P_WRONG_KEY) -> float:
    """log10 P(Binomial(n, p) >= k), computed in logs (it reaches 1e-300 and below)."""
    if k <= 0:
        return 0.0
    if k > n:
        return -math.inf
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(j + 1)
        - math.lgamma(n - j + 1)
        + j * math.log(p)
        + (n - j) * math.log1p(-p)
        for j in range(k, n + 1)
    ]
    top = max(terms)
    return (top + math.log(sum(math.exp(x - top) for x in terms))) / math.log(10)


@cache
def attribution_floor(template_bytes: int) -> int:
    """The fewest valid bytes that attribute a template: a wrong key reaches it with
    probability at most 1e-12."""
    for k in range(template_bytes + 1):
        if log10_tail(template_bytes, k) <= _FLOOR_LOG10:
            return k
    return template_bytes + 1


def attribute(templates: Sequence[bytes], candidates: Sequence[Candidate]) -> Verdict:
    """Attribute each template to the candidate under whose mask it is valid beyond the
    floor (at most one can be: the floors are 1e-12 events), then name the candidate most
    templates point to."""
    counts: Counter[str] = Counter()
    strongest: dict[str, float] = {}
    kinds = {c.label: c.kind for c in candidates}
    by_length: dict[int, list[bytes]] = {}
    for tpl in templates:
        by_length.setdefault(len(tpl), []).append(tpl)
    tests = 0
    for length, group in by_length.items():
        matrix = np.frombuffer(b"".join(group), dtype=np.uint8).reshape(len(group), length)
        fitting = [c for c in candidates if c.mask.size == length]
        tests += len(group) * len(fitting)
        if not fitting:
            continue
        scores = np.stack([valid_bytes(matrix, c.mask) for c in fitting], axis=1)
        best = scores.argmax(axis=1)
        floor = attribution_floor(length)
        for row, col in enumerate(best):
            if scores[row, col] >= floor:
                label = fitting[col].label
                counts[label] += 1
                tail = log10_tail(length, int(scores[row, col]))
                strongest[label] = min(strongest.get(label, 0.0), tail)
    attributed = sum(counts.values())
    bound = _union_bound(tests, by_length)
    if not counts:
        return Verdict(None, None, len(templates), 0, {}, bound, 0.0)
    label, _ = counts.most_common(1)[0]
    evidence = min(0.0, math.log10(tests) + strongest[label])
    return Verdict(label, kinds[label], len(templates), attributed, dict(counts), bound, evidence)


def _union_bound(tests: int, by_length: dict[int, list[bytes]]) -> float:
    """log10 of (template x candidate tests) x the largest per-test floor probability."""
    if tests == 0:
        return 0.0
    worst = max(log10_tail(n, attribution_floor(n)) for n in by_length)
    return min(0.0, math.log10(tests) + worst)
