"""The enrollment quality gate on the shared photos and on degraded copies of them.

Good photos: every photo of ../shared/data/faces whose one face is at least the engine's
smallest enrollable size (60 px); the gate should pass nearly all of them. Bad photos: a
sample of them (every --every-th) blurred (Gaussian, radius 4 px per 300 px of the photo's
longer side), darkened (x0.15), overexposed (x3.5) and rotated 40 degrees; the gate should
refuse nearly all of those it still finds a face in. Prints, per set, how many the gate
passed and refused and why, and the distribution of each measure on the good photos (what
the bounds in ``facegate.recognition.quality.QualityPolicy`` were read from).

The figures describe these photos: posed research photos, many greyscale scans (ORL) and
tight crops (celebrities); the degradations are synthetic. They show the bounds let good
photos through and stop gross faults, not how the gate fares on any camera. Usage:
    python bench/quality.py [--every N] [--faces DIR]

The last stdout line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.config import Settings  # noqa: E402
from facegate.core import engine_for  # noqa: E402
from facegate.errors import ImageError  # noqa: E402
from facegate.liveness.evaluation import image_files  # noqa: E402
from facegate.recognition import FaceEngine, decode_image  # noqa: E402
from facegate.recognition.faces import find_faces  # noqa: E402
from facegate.recognition.quality import QualityMeasures, QualityPolicy, measure  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "faces"
Degrade = Callable[[Image.Image], Image.Image]
DEGRADATIONS: dict[str, Degrade] = {
    "blurred": lambda i: i.filter(ImageFilter.GaussianBlur(4 * max(i.size) / 300)),
    "dark": lambda i: ImageEnhance.Brightness(i).enhance(0.15),
    "overexposed": lambda i: ImageEnhance.Brightness(i).enhance(3.5),
    "rotated": lambda i: i.rotate(40, expand=True, fillcolor=(128, 128, 128)),
}


def _measure(engine: FaceEngine, data: bytes) -> QualityMeasures | None:
    """The measures of the one face, or None (no face, several, or too small to enroll)."""
    try:
        image = decode_image(data)
    except ImageError:
        return None
    faces = find_faces(engine, image, landmarks=5)
    if len(faces) != 1 or min(faces[0].box.width, faces[0].box.height) < 60:
        return None
    return measure(image, faces[0].box, faces[0].landmarks)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _verdicts(measures: list[QualityMeasures], policy: QualityPolicy) -> dict[str, Any]:
    why: Counter[str] = Counter()
    refused = 0
    for m in measures:
        problems = policy.problems(m)
        refused += bool(problems)
        why.update(p.split(" (")[0] for p in problems)
    return {"judged": len(measures), "refused": refused, "why": dict(why)}


def _spread(measures: list[QualityMeasures]) -> dict[str, dict[str, float]]:
    out = {}
    for name in ("sharpness", "yaw", "roll_degrees", "brightness", "clipped"):
        values = np.array([abs(getattr(m, name)) for m in measures])
        low, p1, mid, p99, high = np.percentile(values, [0, 1, 50, 99, 100])
        out[name] = {
            k: round(float(v), 3)
            for k, v in zip(
                ("min", "p1", "median", "p99", "max"), (low, p1, mid, p99, high), strict=True
            )
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=6, help="degrade every N-th good photo")
    parser.add_argument("--faces", type=Path, default=SHARED)
    args = parser.parse_args()
    engine = engine_for(Settings(home=Path(tempfile.mkdtemp())))
    policy = QualityPolicy()
    started = time.perf_counter()
    good: list[tuple[Path, QualityMeasures]] = []
    for path in image_files(args.faces):
        found = _measure(engine, path.read_bytes())
        if found is not None:
            good.append((path, found))
    report: dict[str, Any] = {
        "policy": policy.__dict__,
        "good": _verdicts([m for _, m in good], policy),
    }
    report["good"]["refused_files"] = [
        str(p.relative_to(args.faces)) for p, m in good if policy.problems(m)
    ]
    report["spread_good"] = _spread([m for _, m in good])
    sample = [p for p, _ in good][:: args.every]
    for name, degrade in DEGRADATIONS.items():
        measured = [_measure(engine, _png(degrade(Image.open(p).convert("RGB")))) for p in sample]
        kept = [m for m in measured if m is not None]
        report[name] = {**_verdicts(kept, policy), "no_face": len(measured) - len(kept)}
    report["seconds"] = round(time.perf_counter() - started, 1)
    g = report["good"]
    print(f"good photos: {g['judged'] - g['refused']} of {g['judged']} pass; refused: {g['why']}")
    for name in DEGRADATIONS:
        d = report[name]
        print(f"{name}: {d['refused']} of {d['judged']} refused ({d['no_face']} lost the face)")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
