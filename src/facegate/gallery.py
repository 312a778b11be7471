"""In-process 1:N galleries of protected templates, one per deployment.

The store is the source of truth; a gallery is rebuilt from it when the process starts and
kept in step after each commit. Templates are fixed-length protected byte strings, held in
one contiguous matrix, and a search is an exact scan of it in Hamming space by FAISS
(``faiss.knn_hamming``), from 200,000 templates in one slice per core scanned at once:
~4 ms for one probe against 1,000,000 templates of 1024 bits on one core of this machine,
against ~20 ms for numpy's ``bitwise_count`` pass (``python bench/identify.py``). Being
exact, it finds what an exhaustive comparison finds (the benchmark checks it). Graph or
cluster indexes (HNSW, IVF) can miss the one matching person.

Long templates whose scheme says that their first bytes are a complete shorter template
(``search_prefix_bytes``: biohash-v1 at 2048 or 4096 bits, whose first 1024 bits are one
whole keyed rotation) are searched in two steps: the exact scan above over those first bytes
keeps the ``SHORTLIST`` nearest rows, which are then ranked by the whole template. The
shortlist is an exact 1024-bit search, as accurate in 1:1 terms as biohash-v1 itself, so
the person who matches is in it unless 128 others look more like the probe in 1024 bits
than they do; ``bench/identify.py`` measures recall against the exhaustive full-length
search. Truncating a template *within* a rotation (256 of 1024 bits) was tried and lost
genuine matches (recall@1 0.96 at 1M).

Adding appends a row; removing moves the last row into the hole: neither rebuilds
anything. Searches run without the lock while they scan (FAISS releases the GIL, so two
searches use two cores) and check afterwards that no removal moved rows under them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.recognition.backend import available_cores

Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]
U8 = npt.NDArray[np.uint8]

#: rows the matrix starts with; it doubles when full (templates are 128 bytes: 2 KiB)
_FIRST_CAPACITY: Final = 16
#: from this many templates one search scans in parallel slices, one per core
SPLIT_FROM: Final = 200_000
#: rows a two-step search keeps from the scan of the first bytes, to rank by whole templates
SHORTLIST: Final = 128


class _FaissThread(threading.local):
    one_thread = False


_faiss_thread = _FaissThread()


def knn_hamming(
    probe: U8, codes: U8, k: int
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Hamming distances and rows of the ``k`` rows of ``codes`` nearest to ``probe``."""
    import faiss

    if not _faiss_thread.one_thread:
        # One OpenMP thread per search: for a single probe FAISS's split across the cores
        # is 3-10x slower than one core (measured at 1M), and concurrent searches use the
        # cores anyway. OpenMP keeps this setting per thread, so each thread makes it.
        faiss.omp_set_num_threads(1)
        _faiss_thread.one_thread = True
    distances, rows = faiss.knn_hamming(probe[None, :], codes, k)
    return distances[0], rows[0]


_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def _scan(probe: U8, codes: U8, k: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """The ``k`` nearest rows of each slice of ``codes`` (so up to ``k`` x slices rows):
    large matrices are cut in one slice per core, scanned at once (FAISS lets go of the
    GIL): on two idle cores one search takes about half as long."""
    global _helpers  # noqa: PLW0603 - one pool of scanning threads for the process
    parts = available_cores() if len(codes) >= SPLIT_FROM else 1
    if parts == 1:
        return knn_hamming(probe, codes, k)
    with _helpers_lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(available_cores() - 1, thread_name_prefix="gallery")
    step = -(-len(codes) // parts)
    starts = range(0, len(codes), step)
    futures = [
        _helpers.submit(knn_hamming, probe, codes[s : s + step], min(k, len(codes) - s))
        for s in starts[1:]
    ]
    found = [knn_hamming(probe, codes[:step], min(k, step))]
    found += [f.result() for f in futures]
    rows = [np.where(r >= 0, r + s, -1) for (_, r), s in zip(found, starts, strict=True)]
    return np.concatenate([d for d, _ in found]), np.concatenate(rows)


@dataclass(frozen=True)
class Hit:
    subject_id: str
    template_id: str
    score: float


class Gallery:
    """Templates of one deployment. Add and remove are O(1) amortised; no rebuilds.

    ``similarity_many(probe, rows)`` scores the candidates a search returns; the search
    itself ranks by Hamming distance, so it must be a decreasing function of it (as every
    binary scheme's ``1 - hamming / bits`` is). Without it the score is that formula.
    """

    def __init__(
        self,
        template_bytes: int,
        similarity_many: Similarity | None = None,
        *,
        capacity: int = 0,
        prefix_bytes: int | None = None,
        key_id: str | None = None,
    ) -> None:
        if template_bytes < 1:
            raise ValueError("templates are at least one byte")
        if prefix_bytes is not None and not 0 < prefix_bytes < template_bytes:
            raise ValueError(f"a search prefix is 1 to {template_bytes - 1} bytes")
        self._width = template_bytes
        self._similarity_many = similarity_many
        #: the deployment key the templates were made under, where the loader knows it
        self.key_id = key_id
        rows = max(capacity, _FIRST_CAPACITY)
        self._codes: U8 = np.empty((rows, template_bytes), np.uint8)
        # the first prefix_bytes of every row again, contiguous, for the first search step
        self._short: U8 | None = (
            None if prefix_bytes is None else np.empty((rows, prefix_bytes), np.uint8)
        )
        self._template_ids: list[str] = []
        self._subject_ids: list[str] = []
        self._row: dict[str, int] = {}
        self._by_subject: dict[str, list[str]] = {}
        self._most_per_subject = 1
        # bumped by every removal: a search that scanned without the lock rescans if it moved
        self._generation = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._template_ids)

    @property
    def template_bytes(self) -> int:
        return self._width

    @property
    def nbytes(self) -> int:
        """Bytes the template matrices take now, spare rows included (not the ids)."""
        return int(self._codes.nbytes) + (0 if self._short is None else int(self._short.nbytes))

    # --- changes -----------------------------------------------------------------------

    def add(self, template_id: str, subject_id: str, template: bytes) -> None:
        """Add one template; a template id already present is left as it is."""
        if len(template) != self._width:
            raise ValueError(f"template is {len(template)} bytes, gallery holds {self._width}")
        with self._lock:
            if template_id in self._row:
                return
            self._reserve(1)
            n = len(self._template_ids)
            self._write(n, np.frombuffer(template, dtype=np.uint8)[None, :])
            self._append([template_id], [subject_id], n)

    def add_many(
        self, template_ids: Sequence[str], subject_ids: Sequence[str], templates: U8 | bytes
    ) -> int:
        """Add many templates at once (a start-up load): ``templates`` is an n x
        template-bytes uint8 matrix or their concatenation. Returns how many were new."""
        matrix = (
            np.frombuffer(templates, dtype=np.uint8) if isinstance(templates, bytes) else templates
        )
        matrix = np.asarray(matrix, dtype=np.uint8).reshape(-1, self._width)
        if not len(template_ids) == len(subject_ids) == len(matrix):
            raise ValueError(
                f"{len(template_ids)} template ids, {len(subject_ids)} subject ids and "
                f"{len(matrix)} templates: they must pair up"
            )
        if len(set(template_ids)) != len(template_ids):
            raise ValueError("template ids repeat within one add_many")
        with self._lock:
            keep = [i for i, t in enumerate(template_ids) if t not in self._row]
            self._reserve(len(keep))
            n = len(self._template_ids)
            self._write(n, matrix if len(keep) == len(matrix) else matrix[keep])
            self._append([template_ids[i] for i in keep], [subject_ids[i] for i in keep], n)
            return len(keep)

    def remove_subject(self, subject_id: str) -> int:
        """Remove every template of one person; returns how many there were."""
        with self._lock:
            doomed = self._by_subject.pop(subject_id, [])
            for template_id in doomed:
                self._remove_locked(template_id)
            if doomed:
                self._generation += 1
            return len(doomed)

    def remove(self, template_id: str) -> bool:
        """Remove one template; False if it was not here."""
        return self.remove_many([template_id]) == 1

    def remove_many(self, template_ids: Iterable[str]) -> int:
        """Remove these templates (e.g. expired ones); returns how many were here."""
        removed = 0
        with self._lock:
            for template_id in template_ids:
                if template_id not in self._row:
                    continue
                subject_id = self._subject_ids[self._row[template_id]]
                siblings = self._by_subject[subject_id]
                siblings.remove(template_id)
                if not siblings:
                    del self._by_subject[subject_id]
                self._remove_locked(template_id)
                removed += 1
            if removed:
                self._generation += 1
            return removed

    def _reserve(self, extra: int) -> None:
        need = len(self._template_ids) + extra
        if need <= len(self._codes):
            return
        capacity = max(need, 2 * len(self._codes))
        grown = np.empty((capacity, self._width), dtype=np.uint8)
        n = len(self._template_ids)
        grown[:n] = self._codes[:n]
        # a search scanning the old matrix keeps its own reference: rows < n are the same
        self._codes = grown
        if self._short is not None:
            short = np.empty((capacity, self._short.shape[1]), dtype=np.uint8)
            short[:n] = self._short[:n]
            self._short = short

    def _write(self, row: int, templates: U8) -> None:
        self._codes[row : row + len(templates)] = templates
        if self._short is not None:
            self._short[row : row + len(templates)] = templates[:, : self._short.shape[1]]

    def _append(self, tids: list[str], sids: list[str], first_row: int) -> None:
        """Record the ids of the rows just written from ``first_row`` on, in one pass (a
        start-up adds a million at once)."""
        self._template_ids.extend(tids)
        self._subject_ids.extend(sids)
        self._row.update(zip(tids, range(first_row, first_row + len(tids)), strict=True))
        by_subject, most = self._by_subject, self._most_per_subject
        for tid, sid in zip(tids, sids, strict=True):
            siblings = by_subject.get(sid)
            if siblings is None:
                by_subject[sid] = [tid]
            else:
                siblings.append(tid)
                most = max(most, len(siblings))
        self._most_per_subject = most

    def _remove_locked(self, template_id: str) -> None:
        row = self._row.pop(template_id)
        last = len(self._template_ids) - 1
        if row != last:  # move the last row into the hole
            self._write(row, self._codes[last : last + 1])
            moved = self._template_ids[last]
            self._template_ids[row] = moved
            self._subject_ids[row] = self._subject_ids[last]
            self._row[moved] = row
        self._codes[last] = 0  # nothing of a removed template stays behind in memory
        if self._short is not None:
            self._short[last] = 0
        self._template_ids.pop()
        self._subject_ids.pop()

    # --- search ------------------------------------------------------------------------

    def search(self, probe: bytes, *, top: int = 5) -> list[Hit]:
        """The best-scoring templates, at most one per subject, best first (exact)."""
        if top < 1:
            raise ValueError("top is at least 1")
        if len(probe) != self._width:
            raise ValueError(f"probe is {len(probe)} bytes, gallery holds {self._width}")
        p = np.frombuffer(probe, dtype=np.uint8)
        with self._lock:
            codes, n, generation = self._scanned(), len(self._template_ids), self._generation
            k = self._wanted(n, top)
        if n == 0:
            return []
        distances, rows = _scan(p[: codes.shape[1]], codes[:n], k)
        with self._lock:
            if self._generation != generation:  # rows moved meanwhile: scan again, locked
                n = len(self._template_ids)
                if n == 0:
                    return []
                distances, rows = _scan(
                    p[: codes.shape[1]], self._scanned()[:n], self._wanted(n, top)
                )
            if self._short is not None:  # second step: rank the shortlist by whole templates
                rows = rows[rows >= 0]
                distances = np.bitwise_count(self._codes[rows] ^ p).sum(axis=1, dtype=np.int32)
            return self._hits(p, distances, rows, top)

    def _scanned(self) -> U8:
        """The matrix the (first) scan reads."""
        return self._codes if self._short is None else self._short

    def _wanted(self, n: int, top: int) -> int:
        # the k nearest rows hold at least `top` people: nobody has more than
        # _most_per_subject templates
        k = top * self._most_per_subject
        return min(n, k if self._short is None else max(k, SHORTLIST))

    def _hits(
        self, probe: U8, distances: npt.NDArray[np.int32], rows: npt.NDArray[np.int64], top: int
    ) -> list[Hit]:
        valid = rows >= 0
        distances, rows = distances[valid], rows[valid]
        # nearest first, ties by template id (not by row: removals move rows, and a sharded
        # gallery holds the same templates in other rows, yet must answer alike); `top`
        # people are among the first top * _most_per_subject rows, so only those are scored
        ids = np.array([self._template_ids[r] for r in rows.tolist()], dtype=object)
        order = np.lexsort((ids, distances))[: top * self._most_per_subject]
        rows = rows[order]
        if self._similarity_many is not None:
            scores = np.asarray(self._similarity_many(probe, self._codes[rows]), dtype=np.float64)
        else:
            scores = 1.0 - distances[order] / (8.0 * self._width)
        hits: list[Hit] = []
        seen: set[str] = set()
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            sid = self._subject_ids[row]
            if sid in seen:
                continue
            seen.add(sid)
            hits.append(Hit(sid, self._template_ids[row], float(score)))
            if len(hits) == top:
                break
        return hits


class Galleries:
    """One gallery per deployment, loaded from the store on first use, kept in step with
    other processes by the change feed (:mod:`facegate.sync`); a ``get`` with a key id other
    than the one a gallery was loaded under (a revocation) drops it and loads the store again."""

    def __init__(self, load: Callable[[str], Gallery]) -> None:
        self._load = load
        self._loaded: dict[str, Gallery] = {}
        self._lock = threading.Lock()

    def get(self, deployment_id: str, *, key_id: str | None = None) -> Gallery:
        """The deployment's gallery (reloaded if loaded under a key other than ``key_id``)."""
        with self._lock:
            gallery = self._loaded.get(deployment_id)
            stale = (
                gallery is not None
                and None not in (key_id, gallery.key_id)
                and gallery.key_id != key_id
            )
            if gallery is None or stale:
                gallery = self._load(deployment_id)
                self._loaded[deployment_id] = gallery
            return gallery

    def loaded(self, deployment_id: str) -> Gallery | None:
        """The deployment's gallery if this process has loaded it (None: not yet)."""
        with self._lock:
            return self._loaded.get(deployment_id)

    def drop_all(self) -> None:
        """Forget every gallery (each is loaded again from the store when next searched)."""
        for deployment_id in list(self._loaded):
            self.drop(deployment_id)

    def add(self, deployment_id: str, template_id: str, subject_id: str, template: bytes) -> None:
        """Keep a loaded gallery in step with a commit (an unloaded one reads the store)."""
        gallery = self.loaded(deployment_id)
        if gallery is not None:
            gallery.add(template_id, subject_id, template)

    def remove_subject(self, deployment_id: str, subject_id: str) -> None:
        gallery = self.loaded(deployment_id)
        if gallery is not None:
            gallery.remove_subject(subject_id)

    def remove_templates(self, deployment_id: str, template_ids: Iterable[str]) -> None:
        gallery = self.loaded(deployment_id)
        if gallery is not None:
            gallery.remove_many(template_ids)

    def drop(self, deployment_id: str) -> None:
        """Forget a deployment's gallery (ended, or its key revoked), zeroing its rows."""
        with self._lock:
            gallery = self._loaded.pop(deployment_id, None)
        if gallery is not None:
            gallery.remove_many(list(gallery._template_ids))
