"""The stolen-key attacks are real attacks: with the key they rebuild embeddings where
the theory says they can, and they report what they found, not the genuine embedding."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from facegate.evaluation.attacks import invert
from facegate.templates import PhaseFoldScheme, get_scheme
from facegate.templates.hazmat._mean import MEAN

SEED = bytes(range(32))


def faces(n: int, spread: float, seed: int) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return np.asarray(np.array(MEAN) + rng.normal(0.0, spread, size=(n, 128)))


def test_biohash_template_with_its_key_gives_the_embedding_back() -> None:
    scheme = get_scheme("biohash-v1")
    dictionary = faces(50, 0.05, seed=1)
    for x in faces(5, 0.05, seed=2):
        result = invert(scheme, SEED, scheme.protect(x, SEED), dictionary=dictionary)
        assert result.method == "inversion"
        # within the quantisation: far closer than two photos of one person (~0.3)
        assert np.linalg.norm(result.embedding - x) < 0.15
        assert result.similarity > 0.95


def test_biohash_inversion_needs_the_right_key() -> None:
    scheme = get_scheme("biohash-v1")
    x = faces(1, 0.05, seed=3)[0]
    result = invert(scheme, bytes(32), scheme.protect(x, SEED), dictionary=faces(50, 0.05, 4))
    assert np.linalg.norm(result.embedding - x) > 0.4  # a wrong key rebuilds someone else


def test_phase_retrieval_succeeds_at_a_wide_bandwidth() -> None:
    scheme = PhaseFoldScheme(bits=2048, bandwidth=0.4)
    x = faces(1, 0.05, seed=5)[0]
    result = invert(scheme, SEED, scheme.protect(x, SEED), dictionary=faces(40, 0.05, 6))
    assert result.method == "ascent"
    assert np.linalg.norm(result.embedding - x) < 0.1


def test_phase_retrieval_does_not_find_a_face_far_from_every_start() -> None:
    # A face far from the mean and from every face the attacker holds, under a narrow
    # bandwidth: the template's similarity gives no slope towards it from any start. The
    # ascent may still climb to *another* embedding whose phases mostly agree (the fold
    # makes the template many-to-one), but that one is not the face.
    scheme = PhaseFoldScheme(bits=2048, bandwidth=0.12)
    x = faces(1, 0.09, seed=7)[0]
    result = invert(scheme, SEED, scheme.protect(x, SEED), dictionary=faces(40, 0.05, 8))
    assert np.linalg.norm(result.embedding - x) > 0.6
