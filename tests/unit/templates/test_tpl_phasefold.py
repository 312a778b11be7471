"""phasefold-v1 mechanics: stability, the Gray code, locality, key independence, names."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from facegate.templates import PhaseFoldScheme, TemplateScheme, available_schemes, get_scheme
from facegate.templates.hazmat import hamming, phasefold
from facegate.templates.hazmat._mean import MEAN

SEED = bytes(range(32))
OTHER = bytes(range(1, 33))


def face(seed: int = 0) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return np.asarray(np.array(MEAN) + rng.normal(0.0, 0.05, 128))


def moved(x: npt.NDArray[np.float64], distance: float, seed: int = 9) -> npt.NDArray[np.float64]:
    step = np.random.default_rng(seed).normal(size=128)
    return np.asarray(x + distance * step / np.linalg.norm(step))


def test_registered_with_its_parameters() -> None:
    scheme = get_scheme("phasefold-v1")
    assert isinstance(scheme, TemplateScheme) and isinstance(scheme, PhaseFoldScheme)
    assert "phasefold-v1" in available_schemes()
    assert scheme.template_bytes == phasefold.DEFAULT_BITS // 8
    assert scheme.params == {
        "bits": phasefold.DEFAULT_BITS,
        "levels": 4,
        "bandwidth": phasefold.DEFAULT_BANDWIDTH,
    }
    short = get_scheme("phasefold-v1:8192")
    assert short.template_bytes == 1024 and short.name == "phasefold-v1:8192"
    assert 0.5 < scheme.default_threshold < short.default_threshold < 0.55


def test_measurement_variants_cannot_be_stored() -> None:
    variant = PhaseFoldScheme(bandwidth=0.3)
    assert variant.name == "phasefold-v1@h=0.3"
    with pytest.raises(ValueError):
        get_scheme(variant.name)


@pytest.mark.parametrize(
    ("bits", "bandwidth"), [(1000, 0.25), (0, 0.25), (256 * 300, 0.25), (8192, 0.0), (8192, 5.0)]
)
def test_bad_parameters(bits: int, bandwidth: float) -> None:
    with pytest.raises(ValueError):
        PhaseFoldScheme(bits=bits, bandwidth=bandwidth)


# A template recorded when phasefold-v1 was defined (explicit parameters, so a change of
# the defaults does not move it). Stored templates must keep matching probes made by later
# code and numpy releases: this must not change.
GOLDEN = bytes.fromhex(
    "0a5a7671e4f06085829a26fda2ff9fc571f8a122672d26f4af4c4b331a15c15a"
    "35c37566875b63293c041bbf321bc57875316bf1a34466a0187f84114af3980e"
)


def test_transform_is_stable_across_releases() -> None:
    x = np.array(MEAN) + 0.05 * np.sin(np.arange(128) * 0.7)
    assert hamming.hamming(phasefold.protect(x, SEED, bits=512, bandwidth=0.25), GOLDEN) <= 2


def test_deterministic_and_sized() -> None:
    x = face()
    t = phasefold.protect(x, SEED)
    assert t == phasefold.protect(x, SEED)
    assert len(t) == phasefold.DEFAULT_BITS // 8
    # a float32 probe lands on the other side of a quarter-turn only by rare rounding
    assert hamming.hamming(t, phasefold.protect(x.astype(np.float32), SEED)) <= 2


def test_gray_code_distance_is_the_distance_around_the_circle() -> None:
    tf = phasefold.transform(SEED, bits=256, bandwidth=0.25)
    x = face()
    quarters = np.floor(tf.phases(x)[0] / (np.pi / 2)).astype(int)
    for shift in range(4):
        # move every feature's phase by `shift` quarter turns through the dither
        shifted = phasefold.Transform(
            bits=256,
            bandwidth=0.25,
            frequencies=tf.frequencies,
            dither=np.mod(tf.dither + shift * np.pi / 2, 2 * np.pi),
        )
        moved_quarters = np.floor(shifted.phases(x)[0] / (np.pi / 2)).astype(int)
        circular = np.minimum((moved_quarters - quarters) % 4, (quarters - moved_quarters) % 4)
        assert hamming.hamming(tf.protect(x), shifted.protect(x)) == circular.sum()
        assert circular.sum() == 128 * min(shift, 4 - shift)


def test_locality_similarity_falls_with_distance() -> None:
    scheme = get_scheme("phasefold-v1")
    x = face()
    t = scheme.protect(x, SEED)
    sims = [scheme.similarity(t, scheme.protect(moved(x, d), SEED)) for d in (0.0, 0.1, 0.3, 1.0)]
    assert sims[0] == 1.0
    assert sims == sorted(sims, reverse=True)
    assert abs(sims[-1] - 0.5) < 0.03  # far apart: as unrelated as coin flips


def test_two_keys_give_unrelated_templates() -> None:
    scheme = get_scheme("phasefold-v1")
    x = face()
    sim = scheme.similarity(scheme.protect(x, SEED), scheme.protect(x, OTHER))
    assert abs(sim - 0.5) < 0.03
    # ... and every bit is balanced whatever the face: the dither makes phases uniform
    gallery = scheme.protect_many(np.vstack([face(i) for i in range(64)]), SEED)
    ones = np.unpackbits(gallery, axis=1).mean(axis=0)
    assert abs(float(ones.mean()) - 0.5) < 0.01


def test_bandwidth_and_length_are_part_of_the_transform() -> None:
    x = face()
    base = phasefold.protect(x, SEED, bits=8192)
    assert (
        abs(hamming.similarity(base, phasefold.protect(x, SEED, bits=8192, bandwidth=0.3)) - 0.5)
        < 0.05
    )
    longer = phasefold.protect(x, SEED, bits=16384)
    assert abs(hamming.similarity(base, longer[: len(base)]) - 0.5) < 0.05


def test_refuses_what_is_not_an_embedding() -> None:
    scheme = get_scheme("phasefold-v1")
    with pytest.raises(ValueError):
        scheme.protect(np.zeros(128), SEED)
    with pytest.raises(ValueError):
        scheme.protect(np.ones(64), SEED)
    with pytest.raises(ValueError):
        scheme.similarity(bytes(10), bytes(10))
