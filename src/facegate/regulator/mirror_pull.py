"""The mirror's second source: the operator's public tlog-tiles (c2sp.org/tlog-tiles).

When a checkpoint arrives and entries are missing from the mirror, the witness fetches the
entry bundles ``tile/entries/<N>[.p/<W>]`` from the URL the operator registered, checks
nothing yet (the Merkle root and the index do that next, as for pushed entries) and stages
them. So an operator whose link does not push entries is still mirrored, and an entry can be
withheld only by refusing the whole bundle, which the witness then refuses to cosign.
"""

from __future__ import annotations

import httpx
from sqlalchemy import select

from facegate.errors import FacegateError
from facegate.ledger.tiles import TILE_WIDTH, Tile, tile_path
from facegate.regulator.common import RegCore
from facegate.regulator.mirror import MAX_ENTRIES_PER_PUSH, stage_entries
from facegate.regulator.tables import RegEntry, RegLog

__all__ = ["MirrorPullFailed", "pull_entries"]


class MirrorPullFailed(FacegateError):
    """The operator's tiles did not give the entries the mirror needs."""

    code = "mirror_pull_failed"


def _bundle(data: bytes, width: int) -> list[bytes]:
    """Split an entry bundle: each entry a big-endian uint16 length and its bytes."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise MirrorPullFailed("an entry bundle ends inside a length")
        n = int.from_bytes(data[pos : pos + 2], "big")
        entry = data[pos + 2 : pos + 2 + n]
        if len(entry) != n or not n:
            raise MirrorPullFailed("an entry bundle ends inside an entry")
        out.append(entry)
        pos += 2 + n
    if len(out) != width:
        raise MirrorPullFailed(f"an entry bundle holds {len(out)} entries, not {width}")
    return out


def _missing_from(core: RegCore, log_id: str, start: int, size: int) -> int:
    """The first index in ``[start, size)`` the mirror lacks (``size`` if none)."""
    with core.db.read() as s:
        held = s.scalars(
            select(RegEntry.idx)
            .where(RegEntry.log_id == log_id, RegEntry.idx >= start, RegEntry.idx < size)
            .order_by(RegEntry.idx)
        )
        expected = start
        for idx in held:
            if idx != expected:
                break
            expected += 1
    return expected


def pull_entries(
    core: RegCore, origin: str, size: int, *, client: httpx.Client | None = None
) -> int:
    """Fetch the entries the mirror lacks below ``size`` from the operator's tiles and stage
    them; returns how many were staged. :class:`MirrorPullFailed` if it cannot."""
    with core.db.read() as s:
        log = s.scalar(select(RegLog).where(RegLog.origin == origin))
        if log is None or not log.url.startswith(("http://", "https://")):
            raise MirrorPullFailed(f"no URL is registered for {origin!r} to fetch tiles from")
        log_id, base, start = log.id, log.url.rstrip("/"), log.size
    first = _missing_from(core, log_id, start, size)
    if first >= size:
        return 0
    http = client or core.http or httpx.Client(timeout=10.0)
    entries: list[bytes] = []
    try:
        for n in range(first // TILE_WIDTH, (size - 1) // TILE_WIDTH + 1):
            width = min(TILE_WIDTH, size - n * TILE_WIDTH)
            url = f"{base}/{tile_path(Tile(None, n, width))}"
            try:
                answer = http.get(url)
            except httpx.HTTPError as err:
                raise MirrorPullFailed(f"cannot fetch {url}: {err}") from None
            if answer.status_code != 200:
                raise MirrorPullFailed(f"{url} answered HTTP {answer.status_code}")
            bundle = _bundle(answer.content, width)
            entries += bundle[max(first - n * TILE_WIDTH, 0) :]
    finally:
        if client is None and core.http is None:
            http.close()
    with core.db.transaction() as s:
        row = s.scalar(select(RegLog).where(RegLog.id == log_id).with_for_update())
        assert row is not None
        staged = 0
        for lo in range(0, len(entries), MAX_ENTRIES_PER_PUSH):
            chunk = entries[lo : lo + MAX_ENTRIES_PER_PUSH]
            staged += stage_entries(
                s, row, first + lo, chunk, now=core.now(), entropy=core.entropy
            ).staged
    return staged
