"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from lawful import consent, draft, live, prepare_operator
from PIL import Image

from facegate import errors as e
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


def _png_bomb() -> bytes:
    # 20000 x 20000 RGB of zeros compresses to a few hundred kilobytes.
    raw = zlib.compress(b"\x00" * (1 << 20), 9)
    idat = b"IDAT" + raw
    return (
        _png_header(20000, 20000)
        + struct.pack(">I", len(raw))
        + idat
        + struct.pack(">I", zlib.crc32(idat))
    )


def _blank() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(buf, "JPEG")
    return buf.getvalue()


CASES: dict[str, tuple[Callable[[Photo], bytes], type[e.FacegateError]]] = {
    "empty": (lambda p: b"", e.ImageError),
    "truncated jpeg": (lambda p: p("fixtures/obama.jpg")[:3000], e.CorruptImage),
    "png bomb": (lambda p: _png_bomb(), e.ImageTooLarge),
    "30000x30000 header": (lambda p: _png_header(30000, 30000), e.ImageTooLarge),
    "text named .jpg": (lambda p: b"this is not a photo\n" * 20, e.UnsupportedImage),
    "no face": (lambda p: _blank(), e.NoFace),
    "two faces": (lambda p: p("in_the_wild/couple.jpg"), e.ManyFaces),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_image_changes_nothing(gate: Gate, photo: Photo, case: str) -> None:
    make, expected = CASES[case]
    dep = live(gate)
    consent(gate, dep.id, "alice")
    before = gate.counts()
    with pytest.raises(expected) as raised:
        gate.enroll(dep.id, "alice", make(photo))
    assert raised.value.message
    assert gate.counts() == before


def test_unknown_deployment_and_bad_fields(gate: Gate, photo: Photo) -> None:
    prepare_operator(gate)
    before = gate.counts()
    with pytest.raises(e.NotFound):
        gate.enroll("dep_nope", "alice", photo("fixtures/obama.jpg"))
    with pytest.raises(e.InvalidInput):
        draft(gate, threshold=float("nan"))
    with pytest.raises(e.InvalidInput):
        draft(gate, retention_days="a year")
    with pytest.raises(e.InvalidInput):
        draft(gate, bogus_field=1)
    assert gate.counts() == before
    # Legal judgements are (ledgered) refusals now, not input errors: a place type facegate
    # does not know cannot be shown not to be a private space (CN-FR-13); a threshold has a
    # lawful range per scheme (ISO-30136). Nothing is registered.
    for changes, rule_id in (
        ({"location": "moon_base"}, "CN-FR-13"),
        ({"threshold": 7.0}, "ISO-30136"),
    ):
        with pytest.raises(e.PolicyDenied) as refused:
            draft(gate, **changes)
        assert refused.value.rule_id == rule_id
    after = gate.counts()
    assert after["deployments"] == before["deployments"]
    assert after["ledger_entries"] > before["ledger_entries"]
