"""The measured secure sketch: it opens for the enrolled face and near ones, and only then."""

from __future__ import annotations

import math

import numpy as np

from facegate.evaluation.sketch import codebook_bits, decode, enroll
from facegate.templates.hazmat._mean import MEAN, SPREAD


def test_rotation_is_orthogonal_and_takes_the_face_to_a_sparse_codeword() -> None:
    rng = np.random.default_rng(0)
    face = np.asarray(MEAN) + SPREAD * rng.standard_normal(128)
    sketch = enroll(face, alpha=8, rng=rng)
    p = sketch.rotation
    assert np.allclose(p @ p.T, np.eye(128), atol=1e-9)
    t = (face - np.asarray(MEAN)) / np.linalg.norm(face - np.asarray(MEAN))
    image = p @ t
    big = np.abs(image) > 1e-6
    assert big.sum() == 8
    assert np.allclose(np.abs(image[big]), 1 / math.sqrt(8))
    assert len(sketch.digest) == 32


def test_opens_for_the_face_and_a_near_photo_not_for_strangers() -> None:
    rng = np.random.default_rng(1)
    mean = np.asarray(MEAN)
    face = mean + SPREAD * rng.standard_normal(128)
    sketch = enroll(face, alpha=8, rng=rng)
    near = face + 0.1 * SPREAD * rng.standard_normal((5, 128))
    strangers = mean + SPREAD * rng.standard_normal((200, 128))
    assert decode(sketch, face[None, :], alpha=8).all()
    assert decode(sketch, near, alpha=8).all()
    assert not decode(sketch, strangers, alpha=8).any()
    # the same face enrolled twice gives unrelated sketches (fresh codeword and rotation)
    again = enroll(face, alpha=8, rng=rng)
    assert again.digest != sketch.digest
    assert not np.allclose(again.rotation, sketch.rotation)


def test_codebook_size() -> None:
    assert codebook_bits(1) == 8.0  # 128 places x 2 signs
    assert round(codebook_bits(8)) == 48
