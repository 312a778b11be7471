"""A process-wide budget for decoded pixels, with back-pressure.

Each decode first reserves what it will need at its peak (the decoder's buffer, the reduced
copy, the output), computed from the header before a pixel is decoded; the reservation
waits while others hold the budget and fails with :class:`~facegate.errors.Busy` (HTTP
503) after ``decode_wait_s``. Once decoded, only the output's share stays reserved, until
the pixel array is freed (a finalizer on the array gives it back), so the photos held by
requests in detection and alignment count too. Total decoded memory therefore stays under
``decode_budget_mb`` however many uploads arrive at once.

Two exceptions keep it from deadlocking: a request larger than the whole budget still runs
when it has the budget to itself, and a thread that already holds decoded photos (a bulk
caller decoding a batch before embedding it) is never made to wait for itself.
"""

from __future__ import annotations

import ctypes
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from facegate.errors import Busy

__all__ = ["DecodeBudget", "Lease", "shared"]

MIB = 1024 * 1024


class DecodeBudget:
    def __init__(self, capacity: int, *, wait_s: float = 15.0) -> None:
        if capacity < 1:
            raise ValueError("a decode budget is at least one byte")
        self.capacity = capacity
        self.wait_s = wait_s
        self.in_use = 0
        #: the most ever reserved at once (for benchmarks)
        self.peak = 0
        self._held: dict[int, int] = {}  # thread id -> bytes kept by its decoded photos
        self._cond = threading.Condition()

    def resize(self, capacity: int, wait_s: float) -> None:
        with self._cond:
            self.capacity, self.wait_s = capacity, wait_s
            self._cond.notify_all()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[Lease]:
        """Hold ``nbytes`` for a decode; what :meth:`Lease.keep` keeps outlives the block."""
        me = threading.get_ident()
        with self._cond:
            deadline = time.monotonic() + self.wait_s
            while not self._fits(nbytes, me):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Busy(
                        "the service is decoding too many large photos at once",
                        advice="Retry in a few seconds; smaller photos (a face of 150 to "
                        "1000 pixels across is plenty) are decoded sooner.",
                    )
                self._cond.wait(left)
            self.in_use += nbytes
            self.peak = max(self.peak, self.in_use)
        lease = Lease(self, nbytes, me)
        try:
            yield lease
        finally:
            self._release(nbytes - lease.kept)

    def _fits(self, nbytes: int, me: int) -> bool:
        return (
            self.in_use + nbytes <= self.capacity or self.in_use == 0 or self._held.get(me, 0) > 0
        )

    def _release(self, nbytes: int, holder: int | None = None) -> None:
        with self._cond:
            self.in_use -= nbytes
            if holder is not None:
                left = self._held.get(holder, 0) - nbytes
                if left > 0:
                    self._held[holder] = left
                else:
                    self._held.pop(holder, None)
            self._cond.notify_all()

    def _keep(self, holder: int, nbytes: int) -> None:
        with self._cond:
            self._held[holder] = self._held.get(holder, 0) + nbytes


class Lease:
    """One decode's reservation."""

    def __init__(self, budget: DecodeBudget, reserved: int, holder: int) -> None:
        self._budget = budget
        self.reserved = reserved
        self.kept = 0
        self._holder = holder

    def keep(self, owner: Any, nbytes: int) -> None:
        """Keep ``nbytes`` of the reservation until ``owner`` (the output array) is freed."""
        nbytes = min(nbytes, self.reserved - self.kept)
        if nbytes <= 0:
            return
        self.kept += nbytes
        self._budget._keep(self._holder, nbytes)
        weakref.finalize(owner, self._budget._release, nbytes, self._holder)


def _return_large_buffers_to_the_system() -> None:
    """glibc keeps freed memory in per-thread arenas and raises its mmap threshold (up to
    32 MB) each time a large buffer is freed, so after decodes on many threads the freed
    pixels stay resident: the budget would bound what is live, not what the process holds.
    A fixed 1 MB threshold makes every photo-sized buffer a mapping of its own, returned to
    the system when freed. Elsewhere (not glibc) there is nothing to tune."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 * MIB)
    except (OSError, AttributeError):
        pass


_M_MMAP_THRESHOLD = -3
_return_large_buffers_to_the_system()
_SHARED = DecodeBudget(512 * MIB)


def shared(budget_mb: int, wait_s: float) -> DecodeBudget:
    """The process's budget, sized by the settings in use (one process serves one
    configuration; the latest settings win)."""
    if _SHARED.capacity != budget_mb * MIB or _SHARED.wait_s != wait_s:
        _SHARED.resize(budget_mb * MIB, wait_s)
    return _SHARED
