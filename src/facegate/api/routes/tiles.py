"""The ledger as C2SP tlog-tiles at the service's root: ``/checkpoint``, ``/tile/<L>/<N>`` and
``/tile/entries/<N>`` (see :mod:`facegate.ledger.tiles`). Public and static: tiles never change
once served, so they are cacheable for a year; the checkpoint is not cached.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse, Response

from facegate.api.deps import GateDep
from facegate.api.errors import documented
from facegate.ledger.tiles import parse_tile_path, read_tile

#: a tile beyond the log, or a malformed tile path, is a documented 404
router = APIRouter(tags=["tlog-tiles"], responses=documented(404))

_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(gate: GateDep) -> PlainTextResponse:
    """The latest signed checkpoint (c2sp.org/tlog-checkpoint)."""
    return PlainTextResponse(
        gate.checkpoint(),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


#: any text without control characters; the grammar is checked by parse_tile_path (a 404)
TilePath = Annotated[str, Path(pattern=r"^[^\x00-\x1f\x7f-\x9f]+$", max_length=200)]


@router.get("/tile/{path:path}")
def tile(path: TilePath, gate: GateDep) -> Response:
    """A hash tile ``<L>/<N>[.p/<W>]`` or an entry bundle ``entries/<N>[.p/<W>]``."""
    wanted = parse_tile_path(path)
    with gate.db.read() as s:
        data = read_tile(s, wanted)
    return Response(data, media_type="application/octet-stream", headers=_IMMUTABLE)
