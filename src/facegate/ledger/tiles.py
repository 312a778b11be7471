"""The ledger as C2SP tlog-tiles (c2sp.org/tlog-tiles): static, cacheable resources any
tiled-log client can read, Certificate Transparency style.

* ``tile/<L>/<N>[.p/<W>]``: the ``N``-th tile at level ``L``: hash ``i`` of it is the Merkle
  Tree Hash of leaves ``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``, which is exactly the
  complete node ``(8*L, N*256 + i)`` the ledger stores (:mod:`facegate.ledger.tree`). A full
  tile is 256 hashes; ``.p/<W>`` is a partial tile of ``W`` < 256 hashes.
* ``tile/entries/<N>[.p/<W>]``: entries ``N*256`` to ``N*256 + W - 1``, each as a big-endian
  uint16 length and the exact leaf bytes (pseudonyms and hashes only: no person's name, no
  photo, no template).

``N`` is written in 3-digit groups, all but the last prefixed with ``x`` (1234067 is
``x001/x234/067``). Only the canonical spelling of a path is served, and only tiles whose every
hash the latest signed head covers, so a tile never changes once served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import LedgerError, LedgerTampered, NotFound
from facegate.ledger.records import latest_head
from facegate.storage import tables as t

__all__ = ["TILE_WIDTH", "Tile", "parse_tile_path", "read_tile", "tile_path"]

#: hashes (or entries) in a full tile; tiles are 8 levels high
TILE_WIDTH: Final = 256
_HEIGHT: Final = 8
_MAX_ENTRY: Final = 0xFFFF
_LEVEL = re.compile(r"0|[1-9][0-9]?", re.ASCII)
_WIDTH = re.compile(r"[1-9][0-9]{0,2}", re.ASCII)
_GROUP = re.compile(r"x[0-9]{3}", re.ASCII)
_LAST = re.compile(r"[0-9]{3}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Tile:
    """A hash tile (``level`` 0..63) or an entry bundle (``level`` None)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def start(self) -> int:
        """First leaf covered."""
        return self.index * TILE_WIDTH << (_HEIGHT * (self.level or 0))

    def needs(self) -> int:
        """The tree size from which every hash (or entry) of this tile exists."""
        return (self.index * TILE_WIDTH + self.width) << (_HEIGHT * (self.level or 0))


def _encode_index(n: int) -> str:
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def tile_path(tile: Tile) -> str:
    """The path of a tile below the log's prefix, e.g. ``tile/0/x001/234.p/5``."""
    level = "entries" if tile.level is None else str(tile.level)
    partial = f".p/{tile.width}" if tile.width != TILE_WIDTH else ""
    return f"tile/{level}/{_encode_index(tile.index)}{partial}"


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/...`` (or what follows ``tile/``); refuse anything not canonical."""
    rest = path.removeprefix("tile/")
    level_text, _, rest = rest.partition("/")
    width = TILE_WIDTH
    if ".p/" in rest:
        rest, _, width_text = rest.partition(".p/")
        if not _WIDTH.fullmatch(width_text) or int(width_text) >= TILE_WIDTH:
            raise NotFound(f"no tile {path}: a partial tile's width is 1 to 255")
        width = int(width_text)
    *groups, last = rest.split("/")
    if not _LAST.fullmatch(last) or not all(_GROUP.fullmatch(g) for g in groups):
        raise NotFound(f"no tile {path}: a tile index is written in 3-digit groups")
    index = int("".join(g[1:] for g in groups) + last)
    if level_text == "entries":
        level = None
    elif _LEVEL.fullmatch(level_text) and int(level_text) < 64:
        level = int(level_text)
    else:
        raise NotFound(f"no tile {path}: the level is 0 to 63 or 'entries'")
    tile = Tile(level, index, width)
    if tile_path(tile) != "tile/" + path.removeprefix("tile/"):
        raise NotFound(f"no tile {path}: not the canonical spelling ({tile_path(tile)})")
    return tile


def read_tile(s: Session, tile: Tile) -> bytes:
    """The tile's bytes, if the latest signed head covers all of it (else NotFound)."""
    size = latest_head(s).size
    if tile.needs() > size:
        raise NotFound(
            f"no {tile_path(tile)}: the latest signed head has {size} entries",
            advice="Fetch the checkpoint first; it says which tiles exist.",
        )
    first = tile.index * TILE_WIDTH
    if tile.level is None:
        rows = s.execute(
            select(t.LedgerEntry.idx, t.LedgerEntry.data)
            .where(t.LedgerEntry.idx >= first, t.LedgerEntry.idx < first + tile.width)
            .order_by(t.LedgerEntry.idx)
        ).all()
    else:
        rows = s.execute(
            select(t.LedgerNode.idx, t.LedgerNode.hash)
            .where(
                t.LedgerNode.level == _HEIGHT * tile.level,
                t.LedgerNode.idx >= first,
                t.LedgerNode.idx < first + tile.width,
            )
            .order_by(t.LedgerNode.idx)
        ).all()
    if [i for i, _ in rows] != list(range(first, first + tile.width)):
        raise LedgerTampered(f"{tile_path(tile)}: stored rows are missing", index=None)
    if tile.level is not None:
        return b"".join(bytes(h) for _, h in rows)
    out = bytearray()
    for idx, data in rows:
        if len(data) > _MAX_ENTRY:
            raise LedgerError(f"entry {idx} is longer than a tlog-tiles entry may be (65535)")
        out += len(data).to_bytes(2, "big") + bytes(data)
    return bytes(out)
