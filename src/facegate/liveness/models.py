"""The two anti-spoofing models shipped in ``facegate/liveness/weights/``.

Each file is checked against the SHA-256 pinned here before it is converted, so a changed
or damaged file is refused instead of silently giving other scores. The files are the
authors' originals (see ``weights/NOTICE``); the ONNX graphs are made from them in memory
on first use (about 0.2 s each), so nothing generated is kept on disk or in the repository
and the converter is exercised by every installation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from facegate.errors import ConfigError
from facegate.liveness.convert import CONVERTER_VERSION, convert_pth
from facegate.liveness.pth_format import PthFormatError

__all__ = [
    "LIVE_CLASS",
    "MODELS",
    "MODEL_VERSION",
    "PadModel",
    "default_weights_dir",
    "load_onnx",
]

#: the class index the authors' models use for a live (bona fide) face
LIVE_CLASS: Final = 1


@dataclass(frozen=True)
class PadModel:
    """One anti-spoofing network and the crop it was trained on."""

    name: str
    filename: str
    sha256: str
    #: the face box is grown by this factor about its centre before cropping
    scale: float
    #: the crop is resized to ``size`` x ``size`` pixels
    size: int


#: the authors' pair, whose softmax outputs are averaged
MODELS: Final = (
    PadModel(
        "MiniFASNetV2",
        "2.7_80x80_MiniFASNetV2.pth",
        "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
        2.7,
        80,
    ),
    PadModel(
        "MiniFASNetV1SE",
        "4_0_0_80x80_MiniFASNetV1SE.pth",
        "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
        4.0,
        80,
    ),
)

#: names the scores: another model pair or converter gives other scores
MODEL_VERSION: Final = (
    "minifasnet-v2+v1se-"
    + hashlib.sha256("".join(m.sha256 for m in MODELS).encode()).hexdigest()[:12]
    + f"-c{CONVERTER_VERSION}"
)


def default_weights_dir() -> Path:
    return Path(__file__).resolve().parent / "weights"


def load_onnx(model: PadModel, weights_dir: Path | None = None) -> bytes:
    """The serialized ONNX model of ``model``, converted from its checked weights file."""
    path = (weights_dir or default_weights_dir()) / model.filename
    advice = "Reinstall facegate: the liveness weights ship inside the package."
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"liveness weights {path} cannot be read: {exc.strerror}", advice=advice
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != model.sha256:
        raise ConfigError(
            f"liveness weights {path} are not the shipped file "
            f"(sha256 {digest[:16]}..., expected {model.sha256[:16]}...)",
            advice=advice,
        )
    try:
        return convert_pth(data, input_size=model.size, name=model.name)
    except PthFormatError as exc:  # only reachable if the pinned file itself is unreadable
        raise ConfigError(f"liveness weights {path}: {exc}", advice=advice) from None
