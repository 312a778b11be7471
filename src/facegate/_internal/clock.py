"""Injectable time and randomness, so tests can be exact."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Entropy = Callable[[int], bytes]


def utc_now() -> datetime:
    return datetime.now(UTC)


def system_entropy(n: int) -> bytes:
    return os.urandom(n)
