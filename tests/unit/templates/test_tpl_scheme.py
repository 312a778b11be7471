"""The scheme registry and the TemplateScheme protocol."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.templates import BioHashScheme, TemplateScheme, available_schemes, get_scheme
from facegate.templates.hazmat import biohash, keys

SEED = bytes(range(32))


def embedding() -> np.ndarray:
    return np.array(biohash.MEAN, dtype=np.float64) + 0.05 * np.cos(np.arange(128))


def test_biohash_v1_is_registered() -> None:
    scheme = get_scheme("biohash-v1")
    assert isinstance(scheme, TemplateScheme)
    assert "biohash-v1" in available_schemes()
    assert scheme.name == "biohash-v1"
    assert scheme.template_bytes == 128
    assert scheme.params == {"bits": 1024, "levels": 8, "span": 2.0}
    assert 0.5 < scheme.default_threshold < 1.0
    assert get_scheme("biohash-v1") is scheme  # built once; cheap per request


def test_length_is_part_of_the_name() -> None:
    long = get_scheme("biohash-v1", bits=2048)
    assert long.name == "biohash-v1:2048" and long.template_bytes == 256
    assert get_scheme(long.name) is long
    assert get_scheme("biohash-v1", bits=1024) == get_scheme("biohash-v1")


@pytest.mark.parametrize(
    "name", ["biohash-v9", "BIOHASH-V1", "", "biohash-v1:", "biohash-v1:0", "biohash-v1:1024"]
)
def test_unknown_or_misspelt_names(name: str) -> None:
    with pytest.raises(ValueError):
        get_scheme(name)


def test_conflicting_lengths() -> None:
    with pytest.raises(ValueError, match="names 2048 bits"):
        get_scheme("biohash-v1:2048", bits=1024)
    with pytest.raises(ValueError):
        get_scheme("biohash-v1", bits=1000)
    with pytest.raises(ValueError):
        BioHashScheme(bits=512)


def test_protect_and_compare() -> None:
    scheme = get_scheme("biohash-v1")
    t = scheme.protect(embedding(), SEED)
    assert t == biohash.protect(embedding(), SEED)
    assert scheme.similarity(t, t) == 1.0
    gallery = biohash.as_gallery([t, bytes(128), bytes(x ^ 0xFF for x in t)])
    np.testing.assert_allclose(
        scheme.similarity_many(t, gallery), [1.0, scheme.similarity(t, bytes(128)), 0.0]
    )


def test_templates_of_other_lengths_are_refused() -> None:
    scheme = get_scheme("biohash-v1")
    with pytest.raises(ValueError, match="128 bytes"):
        scheme.similarity(bytes(128), bytes(256))
    with pytest.raises(ValueError, match="128 bytes"):
        scheme.similarity_many(bytes(256), np.zeros((2, 256), dtype=np.uint8))


def test_gate_style_use_matches_the_recipe() -> None:
    """gate.py derives the seed itself; the result must equal TemplateProtector's."""
    from facegate.templates import TemplateProtector

    dep_key = bytes(range(32))
    seed = keys.derive(dep_key, label="template-transform")
    direct = get_scheme("biohash-v1").protect(embedding(), seed)
    assert TemplateProtector("dep_1", dep_key).protect(embedding()) == direct
