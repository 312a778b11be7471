"""The decision holder's one bit: is ``w - R mod t`` in a window, with ``w`` and ``R`` kept apart.

In threshold mode the key holders' decryption shares fuse, at the decision holder, into
``w = margin + R mod t``: the margin blinded by an offset ``R`` uniform on ``[0, t)`` that only
the server knows, so ``w`` is uniform whatever the faces. Whether the margin lies in the
accept window ``[0, T²]`` is whether ``w`` lies in ``[R, R + T²] mod t``. Neither side may
learn the other's number, so the two compare them with the comparison of Damgård, Geisler
and Krøigaard (DGK, 2007):

* the decision holder encrypts the bits of ``w`` under a fresh key of its own (exponential
  ElGamal on secp256k1, through libsecp256k1's ``coincurve``) and sends them;
* the server computes, for each bit position ``i`` of each comparison with its own number
  ``y``, an encryption of ``c_i = w_i - y_i + 1 + 3·Σ_(j>i) (w_j XOR y_j)`` (or with ``w_i``
  and ``y_i`` swapped): zero exactly at the highest bit where ``w < y`` (``w > y``) shows.
  It multiplies each by a fresh random scalar, re-randomises it, and shuffles them together;
* the decision holder learns only whether one of them is zero.

The window test needs two comparisons, ``w`` below its start or above its end, and a zero
among their union says "outside"; when the window wraps around ``t`` the union of ``w``
at or above its start and ``w`` below its wrapped end says "inside". The server knows which,
so the decision holder's bit is the decision or its negation (it sees one bit, whatever it
means) and the server turns it into the decision. The comparison assumes parties that
follow it (semi-honest): a decision holder that sends something other than bits learns at
most how many of the shuffled answers are zero (under 7 bits), and the server answers each
request once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Final

from coincurve import PublicKey

from facegate.errors import InvalidInput

__all__ = ["BitKey", "window_test"]

#: secp256k1's group order
ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
POINT: Final = 33  # compressed
_Point = PublicKey
_Cipher = tuple[PublicKey, PublicKey]


def _scalar() -> int:
    return 1 + secrets.randbelow(ORDER - 1)


def _times_g(k: int) -> _Point:
    return PublicKey.from_secret((k % ORDER).to_bytes(32, "big"))


def _times(point: _Point, k: int) -> _Point:
    return point.multiply((k % ORDER).to_bytes(32, "big"))


def _sum(*points: _Point) -> _Point:
    return PublicKey.combine_keys(list(points))


def _neg(point: _Point) -> _Point:
    raw = point.format()
    return PublicKey(bytes([raw[0] ^ 1]) + raw[1:])  # 02 <-> 03: the same x, the other y


def _pack(cipher: _Cipher) -> bytes:
    return cipher[0].format() + cipher[1].format()


def _unpack(blob: object) -> _Cipher:
    if not isinstance(blob, bytes) or len(blob) != 2 * POINT:
        raise InvalidInput("a comparison ciphertext is two compressed secp256k1 points")
    try:
        return PublicKey(blob[:POINT]), PublicKey(blob[POINT:])
    except ValueError:
        raise InvalidInput("a comparison ciphertext holds a value that is not a point") from None


class BitKey:
    """The decision holder's key for one comparison: fresh each request, never stored."""

    def __init__(self) -> None:
        self._secret = _scalar()
        self.public = _times_g(self._secret).format()

    def encrypt_bits(self, value: int, bits: int) -> list[bytes]:
        """``value``'s bits, least significant first, each as ``(r·G, b·G + r·H)``."""
        h = PublicKey(self.public)
        out = []
        for i in range(bits):
            r = _scalar()
            mask = _times(h, r)
            c2 = _sum(mask, _times_g(1)) if (value >> i) & 1 else mask
            out.append(_pack((_times_g(r), c2)))
        return out

    def any_zero(self, vector: Sequence[bytes]) -> bool:
        """Whether one of the server's answers encrypts zero: ``c2 == x·c1``. Every answer
        is looked at, so the time says nothing of where a zero was."""
        found = False
        for blob in vector:
            c1, c2 = _unpack(blob)
            found |= _times(c1, self._secret).format() == c2.format()
        return found


def _xor(cipher: _Cipher, bit: int) -> _Cipher:
    """``w_j XOR y_j`` from ``Enc(w_j)`` and the server's own bit ``y_j``."""
    if not bit:
        return cipher
    return _neg(cipher[0]), _sum(_times_g(1), _neg(cipher[1]))


def _dgk(bits: Sequence[_Cipher], y: int, *, below: bool) -> list[_Cipher | None]:
    """Encryptions of ``c_i`` for ``w < y`` (``below``) or ``w > y``: one is zero iff it holds.
    None where ``c_i`` cannot be zero whatever ``w`` is (``y_i`` 0 for below, 1 for above):
    the answer there is a random pair of points, which is what a blinded non-zero is."""
    out: list[_Cipher | None] = []
    suffix: _Cipher | None = None  # Σ_(j>i) (w_j XOR y_j), from the top bit down
    for i in reversed(range(len(bits))):
        yi = (y >> i) & 1
        if yi == int(below):
            # below, y_i = 1: c_i = w_i + 3·S; above, y_i = 0: c_i = 1 - w_i + 3·S
            c1, c2 = bits[i] if below else (_neg(bits[i][0]), _sum(_times_g(1), _neg(bits[i][1])))
            if suffix is not None:
                c1 = _sum(c1, suffix[0], suffix[0], suffix[0])
                c2 = _sum(c2, suffix[1], suffix[1], suffix[1])
            out.append((c1, c2))
        else:
            out.append(None)
        step = _xor(bits[i], yi)
        suffix = step if suffix is None else (_sum(suffix[0], step[0]), _sum(suffix[1], step[1]))
    return out


def _blind(cipher: _Cipher | None, h: _Point) -> bytes:
    """``s·Enc(c) + Enc(0)``: zero stays zero, anything else becomes a uniform pair of points,
    and the fresh randomness hides how it was computed."""
    if cipher is None:
        return _pack((_times_g(_scalar()), _times_g(_scalar())))
    s, r = _scalar(), _scalar()
    c1 = _sum(_times(cipher[0], s), _times_g(r))
    c2 = _sum(_times(cipher[1], s), _times(h, r))
    return _pack((c1, c2))


def window_test(
    encrypted_bits: Sequence[bytes], public: bytes, start: int, length: int, modulus: int
) -> tuple[list[bytes], bool]:
    """The server's answer to the decision holder's ``Enc(bits of w)``: blinded, shuffled
    encryptions of which one is zero iff ``w`` is outside ``[start, start + length) mod
    modulus`` (second value False) or inside it (True, the window wrapping around)."""
    if not 0 < length < modulus or not 0 <= start < modulus:
        raise ValueError("the window must lie inside the modulus")
    width = modulus.bit_length()
    if not isinstance(encrypted_bits, Sequence) or len(encrypted_bits) != width:
        raise InvalidInput(f"a comparison takes the {width} encrypted bits of one value")
    try:
        h = PublicKey(public)
    except (TypeError, ValueError):
        raise InvalidInput("the decision holder's comparison key is not a point") from None
    bits = [_unpack(b) for b in encrypted_bits]
    end = start + length
    if end <= modulus:  # w < start, or w > end - 1: outside
        vector, inside = _dgk(bits, start, below=True) + _dgk(bits, end - 1, below=False), False
    else:  # w > start - 1, or w < end - modulus: inside
        vector = _dgk(bits, start - 1, below=False) + _dgk(bits, end - modulus, below=True)
        inside = True
    answers = [_blind(c, h) for c in vector]
    secrets.SystemRandom().shuffle(answers)
    return answers, inside
