"""The decision holder's one-bit comparison (DGK over exponential ElGamal), without OpenFHE."""

from __future__ import annotations

import itertools

import pytest

from facegate.errors import InvalidInput
from facegate.templates.he.compare import BitKey, window_test

MODULUS = 1099512938497  # threshold mode's
WIDTH = 368641  # T² + 1 at T = 0.6, in units of 2^-20


def _decide(margin: int, offset: int, length: int = WIDTH) -> tuple[bool, list[bytes], BitKey]:
    key = BitKey()
    w = (margin + offset) % MODULUS
    answers, inside = window_test(
        key.encrypt_bits(w, MODULUS.bit_length()), key.public, offset, length, MODULUS
    )
    found = key.any_zero(answers)
    return (found if inside else not found), answers, key


@pytest.mark.parametrize(
    ("margin", "offset"),
    list(
        itertools.product(
            (-(2**26), -1, 0, 1, WIDTH - 1, WIDTH, MODULUS // 2, MODULUS - 1),
            (0, 1, 77_777_777_777, MODULUS - WIDTH, MODULUS - WIDTH + 1, MODULUS - 2, MODULUS - 1),
        )
    ),
)
def test_the_bit_is_the_window_at_every_edge(margin: int, offset: int) -> None:
    accepted, answers, _ = _decide(margin, offset)
    assert accepted == (0 <= margin % MODULUS < WIDTH)
    # two comparisons of 41 bits each, every answer a distinct point pair
    assert len(answers) == 82 and len(set(answers)) == 82


def test_at_most_one_answer_is_zero_and_its_place_is_shuffled() -> None:
    places = set()
    for _ in range(12):
        _, answers, key = _decide(5, 123_456_789)  # inside: the "w > end" comparison fails
        zeros = [i for i, a in enumerate(answers) if key.any_zero([a])]
        assert len(zeros) <= 1
        _, answers, key = _decide(-5, 123_456_789)  # outside: one comparison holds
        zeros = [i for i, a in enumerate(answers) if key.any_zero([a])]
        assert len(zeros) == 1
        places.add(zeros[0])
    assert len(places) > 3  # not always the bit position that differs


def test_another_key_sees_no_zero() -> None:
    _, answers, _ = _decide(-5, 42)
    assert not BitKey().any_zero(answers)


def test_malformed_bits_are_refused() -> None:
    key = BitKey()
    bits = key.encrypt_bits(7, MODULUS.bit_length())
    with pytest.raises(InvalidInput, match="41 encrypted bits"):
        window_test(bits[:-1], key.public, 0, WIDTH, MODULUS)
    with pytest.raises(InvalidInput, match="two compressed secp256k1 points"):
        window_test([b"x" * 5, *bits[1:]], key.public, 0, WIDTH, MODULUS)
    with pytest.raises(InvalidInput, match="not a point"):
        window_test([b"\x02" + b"\xff" * 65, *bits[1:]], key.public, 0, WIDTH, MODULUS)
    with pytest.raises(InvalidInput, match="comparison key"):
        window_test(bits, b"nope", 0, WIDTH, MODULUS)
