"""biohash-v2: its own name, length, prefix and threshold; old names keep working."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.templates import BioHashV2Scheme, get_scheme
from facegate.templates.hazmat import biohash, biohash2, hamming
from facegate.templates.hazmat._mean_v2 import MEAN


def _faces(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.asarray(MEAN) + rng.normal(0, 0.05, size=(n, 128))


def test_name_length_and_old_names(key: bytes) -> None:
    s = get_scheme("biohash-v2")
    assert isinstance(s, BioHashV2Scheme) and s.name == "biohash-v2"
    assert s.template_bytes == 2048 and s.search_prefix_bytes == 128
    assert dict(s.params) == {"bits": 16384, "levels": 8, "rotations": 16, "span": 3.0}
    assert len(s.protect(_faces(1)[0], key)) == 2048
    for old in ("biohash-v1", "biohash-v1:4096", "phasefold-v1"):
        assert get_scheme(old).name == old
    for bad in ("biohash-v2:16384", "biohash-v2:1024"):
        with pytest.raises(ValueError, match="one length"):
            get_scheme(bad)


def test_deterministic_keyed_and_unlinkable(key: bytes, other_key: bytes) -> None:
    s = get_scheme("biohash-v2")
    x = _faces(20)
    a, b = s.protect_many(x, key), s.protect_many(x, key)
    assert np.array_equal(a, b)
    assert bytes(a[3]) == s.protect(x[3], key)
    other = s.protect_many(x, other_key)
    cross = [hamming.similarity(bytes(a[i]), bytes(other[i])) for i in range(20)]
    assert 0.45 < float(np.mean(cross)) < 0.55  # same face, two keys: unrelated bits
    # a v1 template of the same face and seed shares nothing with v2's prefix
    v1 = biohash.protect(x[0], key)
    assert 0.35 < hamming.similarity(v1, bytes(a[0, :128])) < 0.65


def test_prefix_ranks_like_the_whole_template(key: bytes) -> None:
    s = get_scheme("biohash-v2")
    x = _faces(200, seed=1)
    probe = x[0] + np.random.default_rng(2).normal(0, 0.01, 128)
    gallery = s.protect_many(x, key)
    t = s.protect(probe, key)
    whole = s.similarity_many(t, gallery)
    prefix = hamming.similarity_many(t[:128], np.ascontiguousarray(gallery[:, :128]))
    assert int(np.argmax(whole)) == int(np.argmax(prefix)) == 0


def test_hamming_tracks_euclidean_distance(key: bytes) -> None:
    # the reason for v2: its similarity predicts dlib's distance better than v1:4096's
    x = _faces(120, seed=3)
    ia, ib = np.triu_indices(len(x), 1)
    dist = np.linalg.norm(x[ia] - x[ib], axis=1)

    def residual(codes: np.ndarray) -> float:
        h = np.bitwise_count(codes[ia].view(np.uint64) ^ codes[ib].view(np.uint64)).sum(1)
        fit = np.polyval(np.polyfit(h, dist, 3), h)
        return float(np.sqrt(np.mean((dist - fit) ** 2)))

    v1 = get_scheme("biohash-v1:4096").protect_many(x, key)
    v2 = get_scheme("biohash-v2").protect_many(x, key)
    assert residual(v2) < 0.8 * residual(v1)


def test_real_faces_at_the_threshold(embed, key: bytes) -> None:  # type: ignore[no-untyped-def]
    s = get_scheme("biohash-v2")
    obama, obama2, biden = embed("obama.jpg"), embed("obama2.jpg"), embed("biden.jpg")
    t = s.protect_many(np.vstack([obama, obama2, biden]), key)
    assert s.similarity(bytes(t[0]), bytes(t[1])) >= s.default_threshold
    assert s.similarity(bytes(t[0]), bytes(t[2])) < s.default_threshold


def test_bad_input(key: bytes) -> None:
    with pytest.raises(ValueError):
        biohash2.transform(b"short")
    with pytest.raises(ValueError):
        get_scheme("biohash-v2").protect(np.zeros(128), key)
    with pytest.raises(ValueError):
        get_scheme("biohash-v2").similarity(b"\0" * 128, b"\0" * 2048)
