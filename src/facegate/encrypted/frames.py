"""Binary bodies for the key ceremony at the nodes: a JSON header line, then the blobs it
lists, back to back. The ceremony's states carry about 170 MB of OpenFHE keys; as base64 in
JSON they would be a third larger and parsed as one string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from facegate.errors import InvalidInput

__all__ = ["MEDIA_TYPE", "pack", "unpack"]

MEDIA_TYPE: Final = "application/vnd.facegate.frames"
_MAX_HEADER: Final = 64 * 1024


def pack(meta: Mapping[str, Any], blobs: Mapping[str, bytes]) -> bytes:
    header = {"meta": dict(meta), "blobs": [[name, len(blob)] for name, blob in blobs.items()]}
    return json.dumps(header).encode() + b"\n" + b"".join(blobs.values())


def unpack(body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """:func:`pack`'s inverse; anything else is an :class:`InvalidInput`."""
    head, sep, _ = body[:_MAX_HEADER].partition(b"\n")
    try:
        header = json.loads(head) if sep else None
    except ValueError:
        header = None
    listed = header.get("blobs") if isinstance(header, dict) else None
    meta = header.get("meta") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or not isinstance(listed, list) or not _listing(listed):
        raise InvalidInput("a ceremony message is a JSON header line followed by its blobs")
    data = memoryview(body)[len(head) + 1 :]
    if sum(size for _, size in listed) != len(data):
        raise InvalidInput("a ceremony message's blobs are not the sizes its header gives")
    blobs, at = {}, 0
    for name, size in listed:
        blobs[name] = bytes(data[at : at + size])
        at += size
    return meta, blobs


def _listing(listed: object) -> bool:
    return (
        isinstance(listed, list)
        and all(
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and type(item[1]) is int
            and item[1] >= 0
            for item in listed
        )
        and len({item[0] for item in listed}) == len(listed)
    )
