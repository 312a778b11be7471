"""Helpers for the tests of issue 17 (liveness, detection, comparison, top-N, quality,
corrections, alerts): real photos, the authors' attack samples, the ledger's new leaves."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image, ImageEnhance, ImageFilter

from facegate.gate import Gate
from facegate.liveness import PassiveLiveness

#: Minivision's own samples: two presentation attacks (F1, F2) and a live face (T1)
PAD_SAMPLES = Path(
    os.environ.get(
        "FACEGATE_PAD_SAMPLES",
        Path(__file__).resolve().parents[3] / "shared/data/models/silent-face-anti-spoofing",
    )
)

_PAD: list[PassiveLiveness] = []


def shared_pad(gate: Gate) -> Gate:
    """Give ``gate`` one PassiveLiveness for the whole session (its models convert once)."""
    if not _PAD:
        _PAD.append(PassiveLiveness())
    gate.core.liveness_ = _PAD[0]
    return gate


def attack(name: str) -> bytes:
    return (PAD_SAMPLES / name).read_bytes()


def leaves_since(gate: Gate, size: int) -> list[dict[str, Any]]:
    """The ledger leaves written since the ledger had ``size`` entries."""
    end = gate.counts()["ledger_entries"]
    return [json.loads(gate.ledger_entry(i).data) for i in range(size, end)]


def size(gate: Gate) -> int:
    return gate.counts()["ledger_entries"]


def degraded(data: bytes, how: str) -> bytes:
    """A JPEG of the photo blurred, darkened or overexposed (what the quality gate refuses)."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    if how == "blur":
        img = img.filter(ImageFilter.GaussianBlur(4 * max(img.size) / 300))
    elif how == "dark":
        img = ImageEnhance.Brightness(img).enhance(0.15)
    elif how == "bright":
        img = ImageEnhance.Brightness(img).enhance(3.5)
    else:
        raise ValueError(how)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92)
    return out.getvalue()
