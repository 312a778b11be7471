"""Shamir secret sharing over GF(2^8), byte by byte (hazardous: use :mod:`facegate.custody`).

A secret of any length is split into ``n`` shares so that any ``k`` of them give it back
and any ``k - 1`` give *nothing*: for every byte, the shares are points ``(x, f(x))`` of a
polynomial of degree ``k - 1`` over GF(256) whose constant term is the secret byte and whose
other coefficients are uniformly random. ``k - 1`` points leave the constant term uniform:
for each candidate secret there is exactly one polynomial through them (information-
theoretic, no computational assumption). Field: AES's, x^8 + x^4 + x^3 + x + 1.

Not authenticated: a wrong or altered share gives a wrong secret, silently. The recipe layer
binds each secret to a fingerprint and checks it after combining.

Table look-ups depend on secret bytes, so timing is not constant; splitting and combining
are offline ceremonies on the custodians' machines, not a service path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

__all__ = ["MAX_SHARES", "combine", "split"]

MAX_SHARES: Final = 255
_POLY: Final = 0x11B


def _tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        # multiply by the generator 3: x * 2 xor x, reduced
        x2 = x << 1
        if x2 & 0x100:
            x2 ^= _POLY
        x = x2 ^ x
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _tables()


def _mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(256)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] - _LOG[b] + 255]


def split(
    secret: bytes, *, threshold: int, shares: int, entropy: Callable[[int], bytes]
) -> list[tuple[int, bytes]]:
    """``shares`` points ``(x, y)`` (x = 1..shares) of which any ``threshold`` rebuild
    ``secret``. ``entropy(n)`` gives n uniformly random bytes (``os.urandom``)."""
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("the secret is a non-empty byte string")
    if not 2 <= threshold <= shares <= MAX_SHARES:
        raise ValueError(
            f"need 2 <= threshold <= shares <= {MAX_SHARES}, got {threshold} of {shares}"
        )
    degree = threshold - 1
    coefficients = entropy(degree * len(secret))
    if not isinstance(coefficients, bytes) or len(coefficients) != degree * len(secret):
        raise ValueError("the entropy source returned the wrong number of bytes")
    out = []
    for x in range(1, shares + 1):
        y = bytearray(len(secret))
        for i, s in enumerate(secret):
            acc = 0
            # Horner from the highest coefficient down to the secret byte
            for j in range(degree - 1, -1, -1):
                acc = _mul(acc, x) ^ coefficients[i * degree + j]
            y[i] = _mul(acc, x) ^ s
        out.append((x, bytes(y)))
    return out


def combine(points: Sequence[tuple[int, bytes]]) -> bytes:
    """The secret through ``points`` (Lagrange interpolation at 0). Give exactly the
    threshold's number of points or more; fewer give a wrong value, not an error."""
    if len(points) < 2:
        raise ValueError("at least two shares are needed")
    xs = [x for x, _ in points]
    if len(set(xs)) != len(xs) or not all(1 <= x <= MAX_SHARES for x in xs):
        raise ValueError("shares must have distinct indices from 1 to 255")
    lengths = {len(y) for _, y in points}
    if len(lengths) != 1:
        raise ValueError("shares of different lengths do not belong together")
    weights = []
    for j, xj in enumerate(xs):
        num, den = 1, 1
        for m, xm in enumerate(xs):
            if m != j:
                num = _mul(num, xm)
                den = _mul(den, xm ^ xj)
        weights.append(_div(num, den))
    out = bytearray(lengths.pop())
    for w, (_, y) in zip(weights, points, strict=True):
        for i, b in enumerate(y):
            out[i] ^= _mul(w, b)
    return bytes(out)
