"""No photo and no raw embedding is ever at rest: scan every byte of the home directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from lawful import consent, live

from facegate.gate import Gate
from facegate.recognition import FaceEngine, decode_image

Photo = Callable[[str], bytes]


def _needles(image: bytes, engine: FaceEngine) -> dict[str, list[bytes]]:
    decoded = decode_image(image)
    emb = engine.extract_for_enrollment(decoded).embedding
    pixels = decoded.pixels.tobytes()
    mid = len(pixels) // 2
    return {
        "photo bytes": [image[i : i + 48] for i in range(64, len(image) - 48, len(image) // 7)],
        "pixels": [pixels[mid : mid + 48]],
        # Any 4 consecutive embedding values, as float32 or float64, little or big endian.
        "embedding": [
            np.asarray(emb[i : i + 4], dtype=dt).tobytes()
            for dt in ("<f4", ">f4", "<f8", ">f8")
            for i in range(0, 124, 31)
        ],
    }


def _scan(home: Path, needles: dict[str, list[bytes]]) -> list[str]:
    found = []
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "facegate.db" for p in files)
    for path in files:
        blob = path.read_bytes()
        for what, pieces in needles.items():
            if any(piece in blob for piece in pieces):
                found.append(f"{what} in {path.name}")
    return found


def test_nothing_biometric_at_rest(
    sqlite_gate: Gate, photo: Photo, face_engine: FaceEngine
) -> None:
    gate = sqlite_gate
    image = photo("fixtures/obama.jpg")
    needles = _needles(image, face_engine)
    dep = live(gate)
    consent(gate, dep.id, "obama")
    gate.enroll(dep.id, "obama", image)
    gate.verify(dep.id, "obama", photo("fixtures/obama2.jpg"))
    gate.identify(dep.id, image)
    home = gate.settings.home
    # The needles must be findable when present, or the scan proves nothing.
    probe = home / "probe.bin"
    probe.write_bytes(b"x" + needles["embedding"][0] + needles["photo bytes"][0])
    assert len(_scan(home, needles)) == 2
    probe.unlink()
    assert _scan(home, needles) == []  # while open: database, WAL and key store
    gate.close()
    assert _scan(home, needles) == []  # and after the WAL is checkpointed
