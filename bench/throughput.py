"""Face-embedding throughput: dlib's ResNet vs the same network on onnxruntime.

Chips (150x150 aligned faces) are cut once from the shared face photos with dlib's HOG
detector, 5-point shape predictor and get_face_chip(size=150, padding=0.25); then each
backend embeds them at batch sizes 1, 8 and 32, and images (chips) per second are
reported.  With --e2e it also times whole photos: the face_recognition library's
face_encodings (if installed) against detect + align + onnx, both from decoded arrays.

Usage:
    PYTHONPATH=src python bench/throughput.py [--quick] [--json] [--e2e]
        [--faces DIR] [--chips N] [--threads N]

Human-readable figures and the command go to stdout (to stderr with --json); the last
line on stdout is always one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.recognition.onnx import OnnxBackend, available_cores  # noqa: E402

FACE_SETS = ("orl", "faces94", "celebrities", "in_the_wild", "fixtures")
SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm"}
BATCH_SIZES = (1, 8, 32)

Chips = npt.NDArray[np.uint8]


def default_faces_dir() -> Path:
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "faces"


def photo_paths(faces_dir: Path) -> list[Path]:
    """All photos, interleaved across the sets so that any prefix is a mixed sample."""
    per_set = [
        sorted(p for p in (faces_dir / s).rglob("*") if p.suffix.lower() in SUFFIXES)
        for s in FACE_SETS
    ]
    out: list[Path] = []
    for i in range(max((len(x) for x in per_set), default=0)):
        out.extend(x[i] for x in per_set if i < len(x))
    return out


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


class DlibModels:
    def __init__(self) -> None:
        import dlib
        import face_recognition_models as frm

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
        self.resnet = dlib.face_recognition_model_v1(frm.face_recognition_model_location())

    def chips(self, image: npt.NDArray[np.uint8]) -> list[Chips]:
        return [
            np.asarray(
                self.dlib.get_face_chip(image, self.shape(image, r), size=150, padding=0.25),
                dtype=np.uint8,
            )
            for r in self.detector(image, 1)
        ]

    def embed(self, chips: Chips, batch: int) -> npt.NDArray[np.float32]:
        out = []
        for start in range(0, len(chips), batch):
            part = chips[start : start + batch]
            if batch == 1:
                out.append([self.resnet.compute_face_descriptor(part[0])])
            else:  # dlib's own batched call on a list of chips
                out.append(self.resnet.compute_face_descriptor(list(part)))
        return np.array([np.asarray(v) for b in out for v in b], dtype=np.float32)


def timed(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds per call of fn, repeating until min_seconds have passed (at least once)."""
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls


def bench_chips(
    chips: Chips, dlib_models: DlibModels, backend: OnnxBackend, min_seconds: float
) -> dict[str, dict[str, float]]:
    n = len(chips)
    results: dict[str, dict[str, float]] = {"dlib": {}, "onnx": {}}
    backend.warmup()
    for bs in BATCH_SIZES:
        backend.max_batch = bs
        backend.embed_chips(chips[: min(n, bs)])  # warm this batch shape
        secs = timed(lambda: backend.embed_chips(chips), min_seconds)
        results["onnx"][str(bs)] = n / secs
        secs = timed(functools.partial(dlib_models.embed, chips, bs), min_seconds)
        results["dlib"][str(bs)] = n / secs
    return results


def bench_e2e(
    images: list[npt.NDArray[np.uint8]], dlib_models: DlibModels, backend: OnnxBackend
) -> dict[str, Any]:
    out: dict[str, Any] = {"images": len(images)}

    backend.max_batch = 32

    def ours() -> int:
        faces = 0
        pending: list[Chips] = []
        for img in images:
            pending.extend(dlib_models.chips(img))
            if len(pending) >= 32:
                backend.embed_chips(np.stack(pending))
                faces += len(pending)
                pending = []
        if pending:
            backend.embed_chips(np.stack(pending))
            faces += len(pending)
        return faces

    start = time.perf_counter()
    out["faces"] = ours()
    out["facegate_onnx_images_per_s"] = len(images) / (time.perf_counter() - start)

    start = time.perf_counter()
    for img in images:
        dlib_models.chips(img)
    out["detect_align_only_images_per_s"] = len(images) / (time.perf_counter() - start)

    try:
        import face_recognition
    except ImportError:
        out["face_recognition_images_per_s"] = None
        out["note"] = "face_recognition not installed (pip install --no-deps face-recognition-ng)"
        return out
    start = time.perf_counter()
    for img in images:
        face_recognition.face_encodings(img)
    out["face_recognition_images_per_s"] = len(images) / (time.perf_counter() - start)
    out["speedup"] = out["facegate_onnx_images_per_s"] / out["face_recognition_images_per_s"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sample, under a minute")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument("--e2e", action="store_true", help="also time whole photos")
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--chips", type=int, default=None, help="chips to embed")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads")
    args = parser.parse_args(argv)
    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=human, flush=True)

    command = shlex.join(["python", "bench/throughput.py", *(argv or sys.argv[1:])])
    say(f"command: {command}")
    n_chips = args.chips or (32 if args.quick else 256)
    min_seconds = 0.5 if args.quick else 2.0

    models = DlibModels()
    backend = OnnxBackend(intra_op_num_threads=args.threads)
    paths = photo_paths(args.faces)
    if not paths:
        raise SystemExit(f"no photos under {args.faces}")

    start = time.perf_counter()
    chips: list[Chips] = []
    used = 0
    for path in paths:
        if len(chips) >= n_chips:
            break
        chips.extend(models.chips(load_rgb(path)))
        used += 1
    batch = np.stack(chips[:n_chips])
    say(f"{len(batch)} chips from {used} photos in {time.perf_counter() - start:.1f} s")

    chip_results = bench_chips(batch, models, backend, min_seconds)
    say(f"chip embedding, images/s ({backend.intra_op_num_threads} onnxruntime threads):")
    say(f"  {'batch':>5}  {'dlib':>8}  {'onnx':>8}  {'speed-up':>8}")
    for bs in BATCH_SIZES:
        d = chip_results["dlib"][str(bs)]
        o = chip_results["onnx"][str(bs)]
        say(f"  {bs:>5}  {d:8.1f}  {o:8.1f}  {o / d:7.1f}x")

    report: dict[str, Any] = {
        "bench": "throughput",
        "command": command,
        "quick": args.quick,
        "chips": len(batch),
        "cores": available_cores(),
        "onnx_threads": backend.intra_op_num_threads,
        "python": platform.python_version(),
        "chip_images_per_s": chip_results,
    }

    if args.e2e:
        n_photos = 24 if args.quick else 120
        images = [load_rgb(p) for p in paths[:n_photos]]
        e2e = bench_e2e(images, models, backend)
        report["end_to_end"] = e2e
        say(f"end to end over {e2e['images']} photos ({e2e['faces']} faces), images/s:")
        say(f"  facegate detect+align+onnx: {e2e['facegate_onnx_images_per_s']:.2f}")
        say(f"  detect+align alone:         {e2e['detect_align_only_images_per_s']:.2f}")
        fr = e2e.get("face_recognition_images_per_s")
        if fr is not None:
            say(f"  face_recognition:           {fr:.2f}  (speed-up {e2e['speedup']:.2f}x)")
        else:
            say(f"  face_recognition: {e2e['note']}")

    print(json.dumps(report, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
