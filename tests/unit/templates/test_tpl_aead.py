"""AEAD sealing: round trips, and one opaque error for every way opening can fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facegate._internal.clock import Entropy
from facegate.errors import InvalidTemplate
from facegate.templates.hazmat import aead

AD = b"template|dep_1|sub_1|tpl_1|biohash-v1"
OPAQUE = InvalidTemplate().message


def test_round_trip(key: bytes) -> None:
    blob = aead.seal(key, b"protected template", ad=AD)
    assert aead.open_sealed(key, blob, ad=AD) == b"protected template"


@given(plaintext=st.binary(max_size=512), ad=st.binary(min_size=1, max_size=64))
def test_round_trip_any_bytes(plaintext: bytes, ad: bytes) -> None:
    key = bytes(32)
    assert aead.open_sealed(key, aead.seal(key, plaintext, ad=ad), ad=ad) == plaintext


def test_format_is_version_nonce_ciphertext(key: bytes) -> None:
    blob = aead.seal(key, b"x" * 10, ad=AD, entropy=lambda n: b"\x07" * n)
    assert len(blob) == 10 + aead.OVERHEAD
    assert blob[0] == aead.VERSION == 1
    assert blob[1 : 1 + aead.NONCE_BYTES] == b"\x07" * 12


def test_injected_entropy_makes_sealing_reproducible(
    key: bytes, make_entropy: Callable[..., Entropy]
) -> None:
    a = aead.seal(key, b"t", ad=AD, entropy=make_entropy())
    b = aead.seal(key, b"t", ad=AD, entropy=make_entropy())
    assert a == b
    # ... because the nonce is the injected entropy (a sealer that ignored it and used a
    # fixed or its own nonce would pass the comparison above, not these)
    assert a[1 : 1 + aead.NONCE_BYTES] == make_entropy()(aead.NONCE_BYTES)
    assert aead.seal(key, b"t", ad=AD, entropy=make_entropy(b"other")) != a


def test_fresh_nonce_per_seal(key: bytes) -> None:
    assert aead.seal(key, b"t", ad=AD) != aead.seal(key, b"t", ad=AD)


def test_every_flipped_bit_is_refused(key: bytes) -> None:
    blob = aead.seal(key, b"sixteen byte msg", ad=AD)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            bad = bytearray(blob)
            bad[i] ^= bit
            with pytest.raises(InvalidTemplate) as err:
                aead.open_sealed(key, bytes(bad), ad=AD)
            assert err.value.message == OPAQUE


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-1],
        lambda b: b + b"\x00",
        lambda b: b[: aead.OVERHEAD - 1],
        lambda b: b"",
        lambda b: bytes([2]) + b[1:],
    ],
    ids=["truncated", "extended", "too-short", "empty", "unknown-version"],
)
def test_malformed_blobs_are_refused(key: bytes, mangle: object) -> None:
    blob = aead.seal(key, b"payload", ad=AD)
    assert callable(mangle)
    with pytest.raises(InvalidTemplate):
        aead.open_sealed(key, mangle(blob), ad=AD)


def test_wrong_ad_and_wrong_key_give_the_same_error(key: bytes, other_key: bytes) -> None:
    blob = aead.seal(key, b"payload", ad=AD)
    messages = []
    for k, ad in [
        (key, b"template|dep_1|sub_2|tpl_1|biohash-v1"),  # moved to another subject's row
        (key, b"template|dep_2|sub_1|tpl_1|biohash-v1"),  # another deployment
        (key, b"subject-ref|dep_1|sub_1"),  # another purpose
        (other_key, AD),  # wrong key
    ]:
        with pytest.raises(InvalidTemplate) as err:
            aead.open_sealed(k, blob, ad=ad)
        messages.append((str(err.value), err.value.to_dict()))
    assert all(m == messages[0] for m in messages)
    assert messages[0][0] == OPAQUE


@pytest.mark.parametrize("bad_key", [b"", bytes(16), bytes(31), bytes(33)])
def test_wrong_key_length_is_misuse(bad_key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        aead.seal(bad_key, b"x", ad=AD)
    with pytest.raises(ValueError, match="32 bytes"):
        aead.open_sealed(bad_key, bytes(40), ad=AD)


def test_empty_ad_is_misuse(key: bytes) -> None:
    with pytest.raises(ValueError, match="associated data"):
        aead.seal(key, b"x", ad=b"")


def test_short_entropy_is_misuse(key: bytes) -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        aead.seal(key, b"x", ad=AD, entropy=lambda n: b"\x00" * (n - 1))


def test_text_plaintext_is_misuse(key: bytes) -> None:
    with pytest.raises(TypeError):
        aead.seal(key, "text", ad=AD)  # type: ignore[arg-type]


def test_encode_context_is_unambiguous() -> None:
    assert aead.encode_context("ab", "c") != aead.encode_context("a", "bc")
    assert aead.encode_context("a", "") != aead.encode_context("a")
    assert aead.encode_context("x", b"y") == aead.encode_context(b"x", "y")
    with pytest.raises(ValueError):
        aead.encode_context()


def test_bulk_openers_agree_with_open_sealed_and_fail_opaquely() -> None:
    from facegate.templates.hazmat import keys

    k1, k2 = bytes(range(32)), bytes(range(1, 33))
    good = aead.seal(k1, b"first", ad=b"row 1")
    other = aead.seal(k1, b"second", ad=b"row 2")
    altered = good[:-1] + bytes([good[-1] ^ 1])
    assert aead.open_many(k1, [(good, b"row 1"), (other, b"row 2")]) == [b"first", b"second"]
    # wrong AD, altered, truncated, wrong version: None, never an exception or a plaintext
    assert aead.open_many(k1, [(good, b"row 2"), (altered, b"row 1"), (good[:10], b"row 1")]) == [
        None,
        None,
        None,
    ]
    assert aead.open_each([(k1, good, b"row 1"), (k2, good, b"row 1")]) == [b"first", None]
    assert aead.open_each([(k1, b"\x09" + good[1:], b"row 1")]) == [None]
    # unwrap_many is unwrap_key for many contexts under one key-encryption key
    kek = bytes(range(2, 34))
    wrapped = [keys.wrap_key(kek, k, context=f"data-key|d|s{i}") for i, k in enumerate((k1, k2))]
    assert keys.unwrap_many(kek, [(w, f"data-key|d|s{i}") for i, w in enumerate(wrapped)]) == [
        k1,
        k2,
    ]
    assert keys.unwrap_many(kek, [(wrapped[0], "data-key|d|s1")]) == [None]  # moved row
    assert keys.unwrap_many(k1, [(wrapped[0], "data-key|d|s0")]) == [None]  # other kek
    for i, w in enumerate(wrapped):
        assert keys.unwrap_key(kek, w, context=f"data-key|d|s{i}") in (k1, k2)
    with pytest.raises(InvalidTemplate):
        keys.unwrap_key(kek, wrapped[0], context="data-key|d|s1")
