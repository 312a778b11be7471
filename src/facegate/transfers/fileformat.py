"""The files that leave, and reading templates back out of whatever a leaked copy became.

An export file (``facegate-export/1``, JSON) holds re-protected templates (base64), each
with a per-export row id, and the reference of the agreement it was made under: never a
photo, an embedding, a name or the operator's reference for anyone. The export's transform
seed travels apart, in a key file (``facegate-export-key/1``), by another channel.

A leaked copy may have been re-ordered, cut down, re-encoded (JSON to CSV, base64 to hex,
bytes to lists of numbers) or stripped of every id. :func:`templates_in` finds templates in
any of those: every run of base64 or hex characters, and every list of 0..255 numbers, that
decodes to exactly the length of a template.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from facegate.errors import InvalidInput

__all__ = ["EXPORT_FORMAT", "KEY_FORMAT", "MAX_TRACE_BYTES", "export_document", "templates_in"]

EXPORT_FORMAT: Final = "facegate-export/1"
KEY_FORMAT: Final = "facegate-export-key/1"
#: the largest file ``facegate trace`` reads (a leaked export of ~30,000 4096-bit templates)
MAX_TRACE_BYTES: Final = 64 * 1024 * 1024

_B64_RUN: Final = re.compile(rb"[A-Za-z0-9+/_-]{20,}={0,2}")
_NUMBERS: Final = re.compile(rb"\[\s*\d{1,3}(?:\s*,\s*\d{1,3}){15,}\s*\]")
_HEX: Final = re.compile(rb"[0-9a-fA-F]+")


def export_document(
    *,
    export_id: str,
    act: str,
    agreement: dict[str, Any],
    scheme: str,
    threshold: float,
    created_at: datetime,
    rows: Sequence[tuple[str, bytes]],
) -> bytes:
    """The export file's bytes: canonical enough to hash (sorted keys, no spaces)."""
    body = {
        "format": EXPORT_FORMAT,
        "export_id": export_id,
        "act": act,
        "agreement": agreement,
        "scheme": scheme,
        "threshold": threshold,
        "created_at": created_at.isoformat(),
        "terms": "Re-protected face templates under a key made for this recipient and this "
        "export; they match only probes made with that key, which travels apart. Use is "
        "bound by the agreement referenced; every copy is traceable to this export.",
        "rows": [{"id": rid, "template": base64.b64encode(tpl).decode()} for rid, tpl in rows],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def templates_in(data: bytes, lengths: Iterable[int]) -> list[bytes]:
    """Every template of one of ``lengths`` bytes found in ``data`` (any encoding above);
    duplicates once. ``data`` beyond :data:`MAX_TRACE_BYTES` is refused."""
    if len(data) > MAX_TRACE_BYTES:
        raise InvalidInput(
            f"the file is larger than {MAX_TRACE_BYTES // (1024 * 1024)} MiB",
            advice="Trace a part of it: a handful of templates is enough.",
        )
    wanted = set(lengths)
    found: dict[bytes, None] = {}
    for run in _B64_RUN.findall(data):
        decoded = _decode(run, wanted)
        if decoded is not None:
            found[decoded] = None
    for match in _NUMBERS.findall(data):
        values = [int(v) for v in re.findall(rb"\d+", match)]
        if len(values) in wanted and all(v < 256 for v in values):
            found[bytes(values)] = None
    return list(found)


def _decode(run: bytes, wanted: set[int]) -> bytes | None:
    """``run`` as hex if it is hex of a wanted length, else as base64 (standard or url-safe,
    padded or not) of a wanted length."""
    if _HEX.fullmatch(run) and len(run) // 2 in wanted and len(run) % 2 == 0:
        return binascii.unhexlify(run)
    text = run.rstrip(b"=")
    padded = text + b"=" * (-len(text) % 4)
    for altchars in (b"+/", b"-_"):
        try:
            decoded = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(decoded) in wanted:
            return decoded
    return None
