"""Re-protection and the fingerprint it leaves: rebuilt embeddings are the stolen-key
inversion's, re-protected templates keep their matches and lose every link, and a template's
bytes are all thermometer codes under its own mask and ~9/256 of them under any other."""

from __future__ import annotations

import os

import numpy as np
import pytest

from facegate.evaluation.attacks import _thermometer_inverse
from facegate.templates import get_scheme
from facegate.templates.hazmat import biohash, biohash2, hamming
from facegate.templates.hazmat._mean import MEAN
from facegate.templates.hazmat._mean_v2 import MEAN as MEAN_V2
from facegate.transfers.reprotect import (
    ExportKeys,
    mask_of,
    rebuild,
    reprotect,
    supports,
    valid_bytes,
)

RNG = np.random.default_rng(5)


def _faces(n: int) -> np.ndarray:  # type: ignore[type-arg]
    """Embedding-like points: around the public mean at a face's distance from it."""
    d = RNG.standard_normal((n, 128))
    return np.asarray(MEAN) + 0.56 * d / np.linalg.norm(d, axis=1, keepdims=True)


@pytest.mark.parametrize("name", ["biohash-v1", "biohash-v1:4096", "biohash-v2"])
def test_rebuild_is_the_stolen_key_inversion(name: str) -> None:
    scheme, seed = get_scheme(name), os.urandom(32)
    x = _faces(3)
    templates = scheme.protect_many(x, seed)
    t = (
        biohash2.transform(seed)
        if name == "biohash-v2"
        else biohash.transform(seed, bits=scheme.template_bytes * 8)
    )
    mean = np.asarray(MEAN_V2 if name == "biohash-v2" else MEAN)
    expected = np.vstack([_thermometer_inverse(t, bytes(row), mean) for row in templates])
    assert np.allclose(rebuild(scheme, seed, templates), expected)
    assert np.linalg.norm(rebuild(scheme, seed, templates) - x, axis=1).max() < 0.25


def test_reprotected_templates_match_within_and_link_nowhere() -> None:
    scheme = get_scheme("biohash-v1:4096")
    dep, a, b = os.urandom(32), os.urandom(32), os.urandom(32)
    x = _faces(20)
    near = x + 0.02 * RNG.standard_normal(x.shape)  # the same people, another photo
    stored = scheme.protect_many(x, dep)
    to_a, to_b = reprotect(scheme, dep, stored, a), reprotect(scheme, dep, stored, b)
    probes_a = scheme.protect_many(near, a)
    same = [hamming.similarity(bytes(to_a[i]), bytes(probes_a[i])) for i in range(20)]
    assert min(same) >= scheme.default_threshold
    for other in (to_b, stored):
        linked = [hamming.similarity(bytes(to_a[i]), bytes(other[i])) for i in range(20)]
        assert max(linked) < 0.6  # about 0.5: unrelated bits


def test_every_byte_is_a_code_under_its_own_mask_and_few_under_another() -> None:
    scheme = get_scheme("biohash-v1:4096")
    own, other = os.urandom(32), os.urandom(32)
    templates = scheme.protect_many(_faces(50), own)
    assert (valid_bytes(templates, mask_of(scheme, own)) == scheme.template_bytes).all()
    share = valid_bytes(templates, mask_of(scheme, other)).sum() / templates.size
    assert abs(share - 9 / 256) < 0.02


def test_export_keys_are_separate_and_phasefold_cannot_be_reprotected() -> None:
    keys = ExportKeys.of(os.urandom(32))
    assert len({keys.transform_seed, keys.id_key, keys.canary_seed}) == 3
    assert not supports(get_scheme("phasefold-v1")) and supports(get_scheme("biohash-v2"))
    with pytest.raises(ValueError, match="cannot be re-protected"):
        mask_of(get_scheme("phasefold-v1"), os.urandom(32))
