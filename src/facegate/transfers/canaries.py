"""Canaries: synthetic people planted in every export, and the ids rows carry.

A canary is an embedding no face makes: the public mean face (biohash-v1's ``MEAN``) moved
:data:`RADIUS` = 1.0 along a keyed random direction. Real faces lie 0.45 to 0.75 from the
mean (865 shared photos, ``bench/leak_drill.py``), and a face matches at about 0.6, so a
real face would have to sit at least 0.4 from the mean *and* within about 32 degrees of a
direction drawn at random in 128 dimensions for the two to meet; its template
similarity to a canary peaks at 0.73 over every shared photo (the threshold is 0.80). The
canary's template, made under the export's key, is a row like any other, with an id from the
same keyed hash as the people's.

Someone who uses a leaked export (inverts its templates with the key, loads them, turns them
into probes) carries the canaries along; :mod:`facegate.transfers.watch` compares every probe
that reaches facegate with every export's canaries, under each export's key, and raises the
alarm naming the export. What it does not do: a key holder who knows this scheme can find
the canaries (their estimated embeddings lie far from the mean) and drop them; canaries catch
the careless and the wholesale, the fingerprint (:mod:`facegate.transfers.trace`) the rest.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import keyed_random
from facegate.templates.hazmat._mean import MEAN

__all__ = [
    "RADIUS",
    "canary_count",
    "canary_embeddings",
    "canary_ids",
    "distance_from_mean",
    "row_id",
]

F64 = npt.NDArray[np.float64]

#: how far from the public mean face a canary lies (real faces: 0.45 to 0.75)
RADIUS: Final = 1.0
#: canaries per export: one per this many people, at least MIN and at most MAX
PER_PEOPLE: Final = 50
MIN_CANARIES: Final = 2
MAX_CANARIES: Final = 64
_MEAN: Final = np.asarray(MEAN, dtype=np.float64)
_ID_HEX: Final = 24


def canary_count(people: int) -> int:
    return int(min(MAX_CANARIES, max(MIN_CANARIES, people // PER_PEOPLE)))


def canary_embeddings(canary_seed: bytes, count: int) -> F64:
    """The ``count`` canaries of one export (a function of its key alone: nothing stored)."""
    if len(canary_seed) < 16 or count < 0:
        raise ValueError("a canary seed is a secret of at least 16 bytes; count >= 0")
    digest = hashlib.sha256(b"facegate/v1/transfer-canaries\x00" + canary_seed).digest()
    bitgen = np.random.PCG64(np.random.SeedSequence(int.from_bytes(digest, "big")))
    # Box-Muller over raw outputs (keyed_random): stable across numpy releases
    directions = keyed_random.normal(bitgen, count * keyed_random.DIM).reshape(count, -1)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.asarray(_MEAN[None, :] + RADIUS * directions, dtype=np.float64)


def distance_from_mean(embedding: npt.ArrayLike) -> float:
    """How far an embedding lies from the public mean face."""
    return float(np.linalg.norm(np.asarray(embedding, dtype=np.float64) - _MEAN))


def row_id(id_key: bytes, pseudonym: str) -> str:
    """A person's id in one export: unlinkable to their ledger pseudonym without the key,
    and different in every export."""
    return hmac.new(id_key, b"person|" + pseudonym.encode(), hashlib.sha256).hexdigest()[:_ID_HEX]


def canary_ids(id_key: bytes, count: int) -> list[str]:
    """The canaries' row ids, from the same keyed hash (indistinguishable from people's)."""
    return [
        hmac.new(id_key, b"canary|%d" % i, hashlib.sha256).hexdigest()[:_ID_HEX]
        for i in range(count)
    ]
