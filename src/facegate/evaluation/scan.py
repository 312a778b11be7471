"""Comparing binary templates in bulk: pairwise similarities and 1:N search speed."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from facegate.gallery import SHORTLIST, knn_hamming
from facegate.templates.scheme import TemplateScheme

__all__ = ["pair_similarity", "search_speed"]

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.intp]
#: the largest gallery matrix the speed figure allocates
SPEED_BYTES = 256 * 2**20


def pair_similarity(ta: U8, tb: U8, a: Ints, b: Ints) -> F64:
    """1 - hamming / bits between rows ``ta[a[k]]`` and ``tb[b[k]]``, in chunks."""
    bits = 8 * ta.shape[1]
    wa, wb = ta.view(np.uint64), tb.view(np.uint64)
    out = np.empty(len(a), dtype=np.float64)
    step = max(1, 2**24 // max(1, ta.shape[1]))
    for start in range(0, len(a), step):
        sl = slice(start, start + step)
        diff = np.bitwise_count(wa[a[sl]] ^ wb[b[sl]]).sum(axis=1, dtype=np.int64)
        out[sl] = 1.0 - diff / bits
    return out


def search_speed(scheme: TemplateScheme, rows: int) -> tuple[float, int]:
    """Gallery templates searched per second by one 1:N probe on one core, the way the
    service's gallery scans (:mod:`facegate.gallery`: FAISS's Hamming scan on one thread;
    for a scheme with a search prefix, the prefixes of every row, then whole templates for
    a shortlist)."""
    width = scheme.template_bytes
    rows = max(1_000, min(rows, SPEED_BYTES // width))
    rng = np.random.default_rng(1)
    gallery = rng.integers(0, 256, size=(rows, width), dtype=np.uint8)
    probe = gallery[rows // 2].copy()
    prefix = scheme.search_prefix_bytes
    short = None if prefix is None else np.ascontiguousarray(gallery[:, :prefix])

    def search() -> None:
        if short is None:
            knn_hamming(probe, gallery, 1)
            return
        _, near = knn_hamming(probe[:prefix], short, SHORTLIST)
        scheme.similarity_many(probe, gallery[near])

    search()  # warm up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        search()
        best = min(best, time.perf_counter() - start)
    return rows / best, rows
