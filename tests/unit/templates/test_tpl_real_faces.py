"""Behaviour on real dlib embeddings of real photos: matching, cancelability, accuracy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from facegate.templates import BioHashScheme, TemplateProtector
from facegate.templates.hazmat import _faces, keys

Embed = Callable[[str], npt.NDArray[np.float64]]

KEY_A = bytes.fromhex("11" * 32)
KEY_B = bytes.fromhex("22" * 32)


def test_raw_pipeline_sanity(embed: Embed) -> None:
    obama, obama2, biden = embed("obama.jpg"), embed("obama2.jpg"), embed("biden.jpg")
    assert np.linalg.norm(obama - obama2) < 0.6 < np.linalg.norm(obama - biden)


def test_same_person_matches_under_one_key(embed: Embed) -> None:
    p = TemplateProtector("dep_a", KEY_A)
    obama, obama2, biden = (p.protect(embed(n)) for n in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    threshold = p.scheme.default_threshold
    assert p.similarity(obama, obama2) >= threshold + 0.03
    assert p.similarity(obama, biden) < threshold - 0.05
    assert p.matches(obama, obama2) and not p.matches(obama, biden)


def test_two_deployment_keys_do_not_match(embed: Embed) -> None:
    a, b = TemplateProtector("dep_a", KEY_A), TemplateProtector("dep_b", KEY_B)
    threshold = a.scheme.default_threshold
    for x in ("obama.jpg", "obama2.jpg", "biden.jpg"):
        for y in ("obama.jpg", "obama2.jpg"):
            sim = a.similarity(a.protect(embed(x)), b.protect(embed(y)))
            # unrelated, like coin flips: 1024 bits agree 512 ± 16 times
            assert abs(sim - 0.5) < 0.07, (x, y, sim)
            assert sim < threshold - 0.2


def test_one_to_many_search_finds_the_person(embed: Embed) -> None:
    p = TemplateProtector("dep_a", KEY_A)
    names = ["obama.jpg", "biden.jpg", "Anthony_Hopkins_0001.jpg"]
    gallery = np.vstack([np.frombuffer(p.protect(embed(n)), dtype=np.uint8) for n in names])
    scores = p.similarity_many(p.protect(embed("obama2.jpg")), gallery)
    assert int(np.argmax(scores)) == 0 and scores[0] >= p.scheme.default_threshold
    scores = p.similarity_many(p.protect(embed("Anthony_Hopkins_0002.jpg")), gallery)
    assert int(np.argmax(scores)) == 2 and scores[2] >= p.scheme.default_threshold


@pytest.mark.slow
def test_protected_accuracy_on_master_pairs(
    faces_dir: Path, embedding_cache: _faces.EmbeddingCache
) -> None:
    """300 labelled in-the-wild pairs; raw dlib at euclidean 0.6 gets 99.67%."""
    pairs = _faces.master_pairs(faces_dir)
    rows = list(_faces.usable(pairs, embedding_cache))
    assert len(rows) == len(pairs) == 300
    a = np.array([r[0] for r in rows])
    b = np.array([r[1] for r in rows])
    same = np.array([r[2] for r in rows])
    raw = float(np.mean((np.linalg.norm(a - b, axis=1) < 0.6) == same))
    assert raw >= 0.99
    scheme = BioHashScheme()
    threshold = scheme.default_threshold
    for key in (KEY_A, KEY_B):
        seed = keys.derive(key, label=keys.TEMPLATE_TRANSFORM)
        ta, tb = scheme.protect_many(a, seed), scheme.protect_many(b, seed)
        sims = 1.0 - np.bitwise_count(ta ^ tb).sum(axis=1) / scheme.bits
        protected = float(np.mean((sims >= threshold) == same))
        assert protected >= 0.99, (protected, raw)
