"""In-process 1:N galleries of protected templates, one per deployment.

The store is the source of truth; a gallery is rebuilt from it when the process starts and
kept in step after each commit. Templates are fixed-length protected byte strings, held in
one contiguous matrix so a search is a single vectorised pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Hit:
    subject_id: str
    template_id: str
    score: float


class Gallery:
    """Templates of one deployment. Add and remove are O(1) amortised; no rebuilds."""

    def __init__(self, template_bytes: int, similarity_many: Similarity) -> None:
        self._width = template_bytes
        self._similarity_many = similarity_many
        self._matrix = np.zeros((16, template_bytes), dtype=np.uint8)
        self._template_ids: list[str] = []
        self._subject_ids: list[str] = []
        self._row: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._template_ids)

    def add(self, template_id: str, subject_id: str, template: bytes) -> None:
        if len(template) != self._width:
            raise ValueError(f"template is {len(template)} bytes, gallery holds {self._width}")
        with self._lock:
            if template_id in self._row:
                return
            n = len(self._template_ids)
            if n == self._matrix.shape[0]:
                grown = np.zeros((n * 2, self._width), dtype=np.uint8)
                grown[:n] = self._matrix
                self._matrix = grown
            self._matrix[n] = np.frombuffer(template, dtype=np.uint8)
            self._template_ids.append(template_id)
            self._subject_ids.append(subject_id)
            self._row[template_id] = n

    def remove_subject(self, subject_id: str) -> int:
        with self._lock:
            doomed = [
                t
                for t, s in zip(self._template_ids, self._subject_ids, strict=True)
                if s == subject_id
            ]
            for template_id in doomed:
                self._remove_locked(template_id)
            return len(doomed)

    def _remove_locked(self, template_id: str) -> None:
        row = self._row.pop(template_id)
        last = len(self._template_ids) - 1
        if row != last:  # move the last row into the hole
            self._matrix[row] = self._matrix[last]
            moved = self._template_ids[last]
            self._template_ids[row] = moved
            self._subject_ids[row] = self._subject_ids[last]
            self._row[moved] = row
        self._matrix[last] = 0
        self._template_ids.pop()
        self._subject_ids.pop()

    def search(self, probe: bytes, *, top: int = 5) -> list[Hit]:
        """The best-scoring templates, at most one per subject, best first."""
        with self._lock:
            n = len(self._template_ids)
            if n == 0:
                return []
            scores = self._similarity_many(np.frombuffer(probe, dtype=np.uint8), self._matrix[:n])
            order = np.argsort(-scores, kind="stable")
            hits: list[Hit] = []
            seen: set[str] = set()
            for i in order:
                sid = self._subject_ids[i]
                if sid in seen:
                    continue
                seen.add(sid)
                hits.append(Hit(sid, self._template_ids[i], float(scores[i])))
                if len(hits) == top:
                    break
            return hits


class Galleries:
    """One gallery per deployment, each loaded from the store on first use."""

    def __init__(self, load: Callable[[str], Gallery]) -> None:
        self._load = load
        self._loaded: dict[str, Gallery] = {}
        self._lock = threading.Lock()

    def get(self, deployment_id: str) -> Gallery:
        with self._lock:
            gallery = self._loaded.get(deployment_id)
            if gallery is None:
                gallery = self._load(deployment_id)
                self._loaded[deployment_id] = gallery
            return gallery

    def add(self, deployment_id: str, template_id: str, subject_id: str, template: bytes) -> None:
        """Keep a loaded gallery in step with a commit (an unloaded one reads the store)."""
        with self._lock:
            gallery = self._loaded.get(deployment_id)
        if gallery is not None:
            gallery.add(template_id, subject_id, template)

    def remove_subject(self, deployment_id: str, subject_id: str) -> None:
        with self._lock:
            gallery = self._loaded.get(deployment_id)
        if gallery is not None:
            gallery.remove_subject(subject_id)
