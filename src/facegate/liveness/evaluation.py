"""Measure passive liveness on folders of photos: the engine of ``facegate bench pad``.

A PAD folder holds ``live/`` (bona fide photos, any depth) and ``attack/``: photos
directly in ``attack/`` are one species named ``attack``; each subfolder of ``attack/``
(``attack/print/``, ``attack/replay/`` ...) is a species of its own. In each photo the
largest face that facegate's detector finds is judged, as a probe would be.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from facegate.errors import ImageError, InvalidInput
from facegate.liveness.metrics import PadMetrics, pad_metrics
from facegate.liveness.passive import PassiveLiveness, decide

if TYPE_CHECKING:
    from facegate.recognition import FaceEngine

__all__ = [
    "IMAGE_SUFFIXES",
    "PadFolder",
    "Scored",
    "evaluate",
    "image_files",
    "pad_folder",
    "score_of",
    "score_paths",
    "verdicts",
]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".pgm", ".ppm", ".pbm"}
)


@dataclass(frozen=True)
class PadFolder:
    live: list[Path]
    attacks: dict[str, list[Path]]


@dataclass(frozen=True)
class Scored:
    """One photo: the models' softmax outputs (models x classes), or why there are none,
    and two facts that explain many refusals of live faces: whether the photo has colour,
    and how much surroundings it shows (:attr:`LivenessResult.context`)."""

    path: Path
    probabilities: npt.NDArray[np.float32] | None
    error: str | None = None
    colour: bool = True
    context: float = 1.0


def image_files(folder: Path) -> list[Path]:
    """The photos under ``folder`` at any depth, in a stable order; hidden files skipped."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def pad_folder(root: Path) -> PadFolder:
    """The live photos and the attack photos by species under ``root``."""
    live_dir, attack_dir = root / "live", root / "attack"
    if not live_dir.is_dir() or not attack_dir.is_dir():
        raise InvalidInput(
            f"{root} needs a live/ and an attack/ folder",
            advice="Lay the photos out as DIR/live/*.jpg and DIR/attack/[SPECIES/]*.jpg.",
        )
    attacks: dict[str, list[Path]] = {}
    direct = sorted(p for p in attack_dir.iterdir() if p.is_file())
    direct = [p for p in direct if p.suffix.lower() in IMAGE_SUFFIXES]
    if direct:
        attacks["attack"] = direct
    for sub in sorted(p for p in attack_dir.iterdir() if p.is_dir()):
        if not sub.name.startswith(".") and (found := image_files(sub)):
            attacks[sub.name] = found
    folder = PadFolder(live=image_files(live_dir), attacks=attacks)
    if not folder.live and not folder.attacks:
        raise InvalidInput(f"no photos under {root}/live or {root}/attack")
    return folder


def _score_one(path: Path, engine: FaceEngine, liveness: PassiveLiveness) -> Scored:
    from facegate.recognition import decode_image

    try:
        image = decode_image(path.read_bytes())
    except OSError:
        return Scored(path, None, "unreadable")
    except ImageError as exc:
        return Scored(path, None, exc.code)
    boxes = engine.detect(image)
    if not boxes:
        return Scored(path, None, "no_face")
    pixels = image.pixels
    colour = bool(
        (pixels[..., 0] != pixels[..., 1]).any() or (pixels[..., 1] != pixels[..., 2]).any()
    )
    return Scored(
        path,
        liveness.probabilities(image, boxes[0]),
        colour=colour,
        context=liveness.context(image, boxes[0]),
    )


def score_paths(
    paths: Iterable[Path],
    engine: FaceEngine,
    liveness: PassiveLiveness,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Scored]:
    """Each photo's scores; photos are detected on the engine's worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    todo = list(paths)
    out: list[Scored] = []
    with ThreadPoolExecutor(max(1, engine.workers)) as pool:
        for scored in pool.map(lambda p: _score_one(p, engine, liveness), todo):
            out.append(scored)
            if progress is not None:
                progress(len(out))
    return out


def verdicts(scored: Sequence[Scored], threshold: float) -> list[bool | None]:
    """True = judged live, False = judged an attack, None = not processed."""
    return [
        None if s.probabilities is None else decide(s.probabilities, threshold)[0] for s in scored
    ]


def evaluate(
    live: Sequence[Scored], attacks: dict[str, list[Scored]], threshold: float
) -> PadMetrics:
    return pad_metrics(
        verdicts(live, threshold),
        {name: verdicts(found, threshold) for name, found in attacks.items()},
        threshold=threshold,
    )


def score_of(scored: Scored) -> float | None:
    """The averaged live probability, for listings."""
    return None if scored.probabilities is None else decide(scored.probabilities, 1.0)[1]
