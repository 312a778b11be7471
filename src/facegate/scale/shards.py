"""A 1:N gallery sharded across Ray actors, with the answers of one gallery.

Each shard is an actor holding a :class:`facegate.gallery.Gallery` (the same exact scan).
Templates are routed by their *person* (a hash of the subject id), so all of one person's
templates are on one shard: a person's removal goes to one shard, and "at most one hit per
person" needs no merge across shards. A search asks every shard for its ``top`` best people
and keeps the ``top`` best of those: since each shard's answer is exact, so is the merge,
which therefore finds what one gallery finds (ties in score aside, which one gallery breaks
by row order). ``tests/integration/test_scale_ray.py`` checks it on real photos;
``bench/scale.py`` measures it at 10M simulated templates against one exhaustive scan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from facegate.gallery import Gallery, Hit
from facegate.scale.cluster import ray_module

__all__ = ["ShardedGallery", "shard_of"]


def shard_of(subject_id: str, shards: int) -> int:
    """The shard that holds a person's templates."""
    digest = hashlib.blake2b(subject_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


class Shard:
    """One shard's gallery (the body of the Ray actor)."""

    def __init__(self, template_bytes: int, scheme: str | None, prefix_bytes: int | None) -> None:
        similarity = None
        if scheme is not None:
            from facegate.templates import get_scheme

            similarity = get_scheme(scheme).similarity_many
        self._gallery = Gallery(template_bytes, similarity, prefix_bytes=prefix_bytes)

    def add_many(self, template_ids: list[str], subject_ids: list[str], matrix: Any) -> int:
        return self._gallery.add_many(template_ids, subject_ids, np.asarray(matrix))

    def remove_subject(self, subject_id: str) -> int:
        return self._gallery.remove_subject(subject_id)

    def remove_many(self, template_ids: list[str]) -> int:
        return self._gallery.remove_many(template_ids)

    def size(self) -> int:
        return len(self._gallery)

    def search(self, probe: bytes, top: int) -> list[tuple[str, str, float]]:
        return [
            (h.subject_id, h.template_id, h.score) for h in self._gallery.search(probe, top=top)
        ]

    def simulate(self, first: int, count: int, seed: int, per_subject: int) -> int:
        """Add ``count`` random templates (ids ``t<n>``, people ``s<n // per_subject>``), as
        :func:`simulated_rows` makes them: a benchmark's gallery, made where it lives."""
        step = 500_000
        for lo in range(first, first + count, step):
            n = min(step, first + count - lo)
            tids, sids, matrix = simulated_rows(
                lo, n, seed, self._gallery.template_bytes, per_subject
            )
            self._gallery.add_many(tids, sids, matrix)
        return len(self._gallery)


def simulated_rows(
    first: int, count: int, seed: int, width: int, per_subject: int
) -> tuple[list[str], list[str], np.ndarray]:
    """Random templates ``first .. first+count`` of a simulated gallery (reproducible)."""
    rng = np.random.default_rng([seed, first])
    matrix = rng.integers(0, 256, size=(count, width), dtype=np.uint8)
    tids = [f"t{n}" for n in range(first, first + count)]
    sids = [f"s{n // per_subject}" for n in range(first, first + count)]
    return tids, sids, matrix


class ShardedGallery:
    """The driver's side: routes changes to shards and merges searches."""

    def __init__(
        self,
        shards: int,
        template_bytes: int,
        *,
        scheme: str | None = None,
        prefix_bytes: int | None = None,
        cpus_per_shard: float | None = None,
    ) -> None:
        if shards < 1:
            raise ValueError("a sharded gallery has at least one shard")
        ray = ray_module()
        if cpus_per_shard is None:  # one CPU each, or a share when there are fewer CPUs
            cpus_per_shard = min(1.0, float(ray.cluster_resources().get("CPU", 1)) / shards)
        actor = ray.remote(num_cpus=cpus_per_shard)(Shard)
        self._ray = ray
        self.template_bytes = template_bytes
        self.actors = [actor.remote(template_bytes, scheme, prefix_bytes) for _ in range(shards)]

    def __len__(self) -> int:
        return int(sum(self._ray.get([a.size.remote() for a in self.actors])))

    def add_many(
        self, template_ids: Sequence[str], subject_ids: Sequence[str], templates: np.ndarray
    ) -> int:
        matrix = np.asarray(templates, dtype=np.uint8).reshape(-1, self.template_bytes)
        routes = np.array([shard_of(s, len(self.actors)) for s in subject_ids], dtype=np.int64)
        calls = []
        for shard, actor in enumerate(self.actors):
            rows = np.flatnonzero(routes == shard).tolist()
            if len(rows):
                calls.append(
                    actor.add_many.remote(
                        [template_ids[i] for i in rows],
                        [subject_ids[i] for i in rows],
                        matrix[rows],
                    )
                )
        return int(sum(self._ray.get(calls)))

    def add(self, template_id: str, subject_id: str, template: bytes) -> None:
        matrix = np.frombuffer(template, dtype=np.uint8)[None, :]
        self.add_many([template_id], [subject_id], matrix)

    def remove_subject(self, subject_id: str) -> int:
        actor = self.actors[shard_of(subject_id, len(self.actors))]
        return int(self._ray.get(actor.remove_subject.remote(subject_id)))

    def remove_templates(self, template_ids: Sequence[str], subject_ids: Sequence[str]) -> int:
        """Remove templates, each sent to its person's shard."""
        by_shard: dict[int, list[str]] = {}
        for tid, sid in zip(template_ids, subject_ids, strict=True):
            by_shard.setdefault(shard_of(sid, len(self.actors)), []).append(tid)
        calls = [self.actors[k].remove_many.remote(v) for k, v in by_shard.items()]
        return int(sum(self._ray.get(calls)))

    def search(self, probe: bytes, *, top: int = 5) -> list[Hit]:
        """The ``top`` best people over every shard, best first (exact)."""
        answers = self._ray.get([a.search.remote(probe, top) for a in self.actors])
        hits = [Hit(*h) for answer in answers for h in answer]
        hits.sort(key=lambda h: (-h.score, h.template_id))  # ties as one gallery breaks them
        return hits[:top]

    def simulate(self, total: int, *, seed: int, per_subject: int = 1) -> None:
        """Fill the shards with ``total`` simulated templates, each made on its shard: shard
        ``k`` holds rows ``[k*total/n, (k+1)*total/n)`` (so here the route is by row range,
        not by person: every simulated person has their templates in one range)."""
        n = len(self.actors)
        bounds = [total * k // n for k in range(n + 1)]
        self._ray.get(
            [
                a.simulate.remote(bounds[k], bounds[k + 1] - bounds[k], seed, per_subject)
                for k, a in enumerate(self.actors)
            ]
        )

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
