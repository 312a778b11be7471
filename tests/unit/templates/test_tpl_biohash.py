"""biohash-v1 mechanics: determinism, stability, input checks, and Hamming arithmetic."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.templates.hazmat import biohash
from facegate.templates.hazmat._mean import MEAN, SPREAD

SEED = bytes(range(32))

# A template recorded when biohash-v1 was defined. Stored templates must keep matching
# probes made by later code and later numpy releases, so this must not change. A bit or
# two may differ on another BLAS if a projection lands within rounding of a threshold.
GOLDEN = bytes.fromhex(
    "731b7fca8b4ac77217920c0bf5d83dd12b69e42ee3fb5c868f7f56907bd6f02b"
    "568a11658b854346a7d3a1e30f48d0f68a52ff8e8c14273978f7e41dbbe6c1e9"
    "e634edab12472af980e256c1cfe0b0f256cab0c290e485c7d85bd18028762358"
    "487029e3160b702b43e2a717ef7973c985a9fc04459d5f9f20e0a51bc38108bc"
)


def golden_embedding() -> npt.NDArray[np.float64]:
    return np.asarray(np.array(MEAN) + 0.05 * np.sin(np.arange(128) * 0.7), dtype=np.float64)


def near(n: int, *, noise: float, seed: int = 0) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    base = np.array(MEAN, dtype=np.float64) + rng.normal(0.0, SPREAD, size=128)
    return base + rng.normal(0.0, noise / np.sqrt(128), size=(n, 128))


def test_public_constants() -> None:
    assert len(MEAN) == biohash.DIM == 128
    assert 1.2 < float(np.linalg.norm(MEAN)) < 1.5  # an average of unit-ish descriptors
    assert 0.03 < SPREAD < 0.07


def test_transform_is_stable_across_releases() -> None:
    template = biohash.protect(golden_embedding(), SEED)
    assert biohash.hamming(template, GOLDEN) <= 2


def test_deterministic_and_sized() -> None:
    e = golden_embedding()
    assert biohash.protect(e, SEED) == biohash.protect(e.astype(np.float32), SEED)
    assert len(biohash.protect(e, SEED)) == 128
    assert len(biohash.protect(e, SEED, bits=2048)) == 256


def test_lengths_are_independent_transforms() -> None:
    e = golden_embedding()
    short, long = biohash.protect(e, SEED), biohash.protect(e, SEED, bits=2048)
    assert abs(biohash.similarity(short, long[:128]) - 0.5) < 0.1


def test_rotation_blocks_are_orthonormal() -> None:
    t = biohash.transform(SEED, bits=2048)
    assert t.rotation.shape == (256, 128)
    for block in (t.rotation[:128], t.rotation[128:]):
        np.testing.assert_allclose(block @ block.T, np.eye(128), atol=1e-10)
    assert not t.rotation.flags.writeable and not t.mask.flags.writeable


def test_protect_many_matches_protect() -> None:
    batch = near(5, noise=0.5)
    t = biohash.transform(SEED)
    rows = t.protect_many(batch)
    assert rows.shape == (5, 128) and rows.dtype == np.uint8
    assert [bytes(r) for r in rows] == [t.protect(e) for e in batch]


def test_similarity_falls_with_distance() -> None:
    base = near(1, noise=0.0)[0]
    step = np.random.default_rng(1).normal(size=128)
    step /= np.linalg.norm(step)
    t = biohash.transform(SEED)
    sims = [
        biohash.similarity(t.protect(base), t.protect(base + d * step)) for d in (0.1, 0.4, 0.8)
    ]
    assert 1.0 > sims[0] > sims[1] > sims[2]


def test_other_keys_give_unrelated_templates() -> None:
    batch = near(50, noise=0.8, seed=3)
    a = biohash.transform(SEED).protect_many(batch)
    b = biohash.transform(bytes(32)).protect_many(batch)
    sims = [biohash.similarity(x, y) for x, y in zip(a, b, strict=True)]
    assert abs(float(np.mean(sims)) - 0.5) < 0.02
    assert max(abs(s - 0.5) for s in sims) < 0.1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros(128), "norm"),
        (np.ones(128), "norm"),  # norm 11.3: not a dlib descriptor
        (np.full(128, np.nan), "NaN"),
        (np.array(MEAN, dtype=np.float64)[:127], "128 values"),
        (np.zeros((2, 3, 128)), "128 values"),
    ],
)
def test_refuses_non_embeddings(value: npt.NDArray[np.float64], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        biohash.transform(SEED).protect_many(value)


def test_protect_takes_exactly_one_embedding() -> None:
    with pytest.raises(ValueError, match="protect_many"):
        biohash.protect(near(2, noise=0.1), SEED)


@pytest.mark.parametrize("bits", [0, 64, 512, 1000, 1536, 9216])
def test_refuses_bad_lengths(bits: int) -> None:
    with pytest.raises(ValueError, match="multiple of 1024"):
        biohash.transform(SEED, bits=bits)


def test_refuses_short_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        biohash.transform(b"short")


# --- Hamming ------------------------------------------------------------------------------


def naive_hamming(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


@settings(max_examples=50)
@given(
    st.integers(1, 8).flatmap(
        lambda w: st.tuples(
            st.binary(min_size=8 * w, max_size=8 * w), st.binary(min_size=8 * w, max_size=8 * w)
        )
    )
)
def test_hamming_matches_naive(pair: tuple[bytes, bytes]) -> None:
    a, b = pair
    assert biohash.hamming(a, b) == naive_hamming(a, b)
    assert biohash.similarity(a, b) == 1.0 - naive_hamming(a, b) / (8 * len(a))


def test_hamming_many_matches_hamming_across_chunks() -> None:
    rng = np.random.default_rng(7)
    rows = 2 * 16384 + 3  # spans the chunking boundary
    gallery = rng.integers(0, 256, size=(rows, 128), dtype=np.uint8)
    probe = bytes(gallery[100])
    dist = biohash.hamming_many(probe, gallery)
    assert dist.shape == (rows,) and dist.dtype == np.int64 and dist[100] == 0
    for i in (0, 16383, 16384, rows - 1):
        assert dist[i] == naive_hamming(probe, bytes(gallery[i]))
    # the probe may also come as the uint8 array a gallery row is
    np.testing.assert_array_equal(biohash.hamming_many(gallery[100], gallery), dist)
    sims = biohash.similarity_many(probe, gallery)
    np.testing.assert_allclose(sims, 1.0 - dist / 1024)


@pytest.mark.parametrize("width", [8, 24, 128, 256, 1024])
def test_hamming_many_every_row_width(width: int) -> None:
    # 128 and 256 bytes take the in-register row sum; 8 and 24 the generic one
    rng = np.random.default_rng(width)
    gallery = rng.integers(0, 256, size=(301, width), dtype=np.uint8)
    probe = bytes(gallery[0])
    expected = [naive_hamming(probe, bytes(row)) for row in gallery]
    np.testing.assert_array_equal(biohash.hamming_many(probe, gallery), expected)
    every_bit = np.full((2, width), 0xFF, dtype=np.uint8)
    np.testing.assert_array_equal(biohash.hamming_many(bytes(width), every_bit), [8 * width] * 2)


def test_similarity_extremes() -> None:
    a = bytes(range(128))
    assert biohash.similarity(a, a) == 1.0
    assert biohash.similarity(a, bytes(x ^ 0xFF for x in a)) == 0.0


def test_hamming_many_works_on_views() -> None:
    gallery = np.zeros((10, 128), dtype=np.uint8)
    gallery[::2] = 0xFF
    np.testing.assert_array_equal(biohash.hamming_many(bytes(128), gallery[::2]), np.full(5, 1024))


def test_comparison_misuse() -> None:
    with pytest.raises(ValueError, match="cannot be compared"):
        biohash.hamming(bytes(8), bytes(16))
    with pytest.raises(ValueError, match="multiple of 8"):
        biohash.hamming(bytes(7), bytes(7))
    with pytest.raises(ValueError, match="gallery rows"):
        biohash.hamming_many(bytes(128), np.zeros((3, 256), dtype=np.uint8))
    with pytest.raises(TypeError):
        biohash.hamming_many(bytes(128), np.zeros((3, 16), dtype=np.uint64))
    with pytest.raises(TypeError):
        biohash.hamming("text", "text")  # type: ignore[arg-type]


def test_as_gallery() -> None:
    g = biohash.as_gallery([bytes(128), bytes([1]) * 128])
    assert g.shape == (2, 128) and g.flags.c_contiguous
    with pytest.raises(ValueError, match="different lengths"):
        biohash.as_gallery([bytes(128), bytes(256)])
    with pytest.raises(ValueError):
        biohash.as_gallery([])
