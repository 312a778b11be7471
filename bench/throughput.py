"""End-to-end enrollment throughput: facegate against the face_recognition library.

Both run over the same shared photos (all 872 of ../shared/data/faces; --quick: every 8th)
with the same model (dlib's HOG detector, 5-point landmarks, dlib's ResNet):

- face_recognition (``face-recognition-ng``): ``face_encodings(load_image_file(p))`` per
  photo, one after the other, as its README shows;
- facegate, engine: read the file, ``decode_image`` (header checks, EXIF), detect on the
  capped working copy, align at full size, embed with the ONNX backend, protect
  (biohash-v1) and seal (AES-GCM under a data key): the enrollment path up to the store,
  through ``FaceEngine.embed_stream`` (detection on one thread per core while the previous
  32 chips are embedded);
- facegate, Gate.enroll: the whole service path, store and ledger included, from two
  threads (each photo one person who consented beforehand, untimed).

Then it checks the answers: recall of facegate's detection against dlib's own (the boxes
face_recognition found, IoU >= 0.5), boxes facegate found that dlib did not, and for each
face both embedded, the euclidean distance between the two embeddings (dlib calls the same
person below 0.6) and whether their protected templates match each other (>= 0.80).

The machine may be shared: besides images per second (wall clock) each run reports CPU
milliseconds per image (all its threads), which other load does not inflate.

A last section times the chip embedding alone (dlib's ResNet vs onnxruntime, batches of 1,
8 and 32). Usage:
    python bench/throughput.py [--quick] [--json] [--faces DIR] [--no-gate] [--no-chips]

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
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.errors import FaceError  # noqa: E402
from facegate.recognition import (  # noqa: E402
    DecodedImage,
    Extraction,
    FaceBox,
    FaceEngine,
    decode_image,
)
from facegate.recognition.onnx import OnnxBackend, available_cores  # noqa: E402
from facegate.templates import TemplateProtector  # noqa: E402
from facegate.templates.hazmat import keys  # noqa: E402

FACE_SETS = ("orl", "faces94", "celebrities", "in_the_wild", "fixtures")
SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm"}
BATCH_SIZES = (1, 8, 32)
BATCH = 32

Chips = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]


def default_faces_dir() -> Path:
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "faces"


def photo_paths(faces_dir: Path) -> list[Path]:
    """Every photo of the shared sets, in path order (so every n-th is a fair sample)."""
    return sorted(
        p for s in FACE_SETS for p in (faces_dir / s).rglob("*") if p.suffix.lower() in SUFFIXES
    )


def load_rgb(path: Path) -> npt.NDArray[np.uint8]:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def iou(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# --- face_recognition --------------------------------------------------------------------


@dataclass
class Reference:
    """What face_recognition found in one photo: dlib's boxes and their encodings."""

    boxes: list[Box]
    encodings: list[npt.NDArray[np.float64]]


def run_face_recognition(paths: list[Path]) -> tuple[float, float, list[Reference]]:
    """Wall and CPU seconds of face_recognition over ``paths``, and what it found."""
    try:
        import face_recognition
        from face_recognition import api
    except ImportError:
        raise SystemExit(
            "bench/throughput.py compares facegate with face_recognition, which is not "
            "installed. Install it beside dlib-bin, without its own dlib (which would be built "
            "from source):\n  pip install '.[bench]'\n  pip install --no-deps "
            "face-recognition-ng"
        ) from None

    real = api._raw_face_locations
    seen: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        rects = real(*args, **kwargs)
        seen.append(rects)
        return rects

    api._raw_face_locations = recording  # the same call, its boxes kept for the answers
    try:
        face_recognition.face_encodings(face_recognition.load_image_file(paths[0]))  # warm
        seen.clear()
        out: list[Reference] = []
        start, cpu = time.perf_counter(), time.process_time()
        for path in paths:
            encodings = face_recognition.face_encodings(face_recognition.load_image_file(path))
            rects = seen.pop()
            out.append(
                Reference(
                    [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in rects], encodings
                )
            )
        return time.perf_counter() - start, time.process_time() - cpu, out
    finally:
        api._raw_face_locations = real
        # importing face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES, which
        # facegate's decoder refuses to run under (a truncated photo would decode half grey)
        from PIL import ImageFile

        ImageFile.LOAD_TRUNCATED_IMAGES = False


# --- facegate --------------------------------------------------------------------------


def run_engine(
    paths: list[Path], engine: FaceEngine, protector: TemplateProtector
) -> tuple[float, float, list[Extraction | FaceError]]:
    """Read, decode, detect, align, embed, protect and seal every photo, as enrollment.
    Wall and CPU seconds (all threads), and each photo's extraction or refusal."""
    data_key, _ = protector.new_data_key(subject_id="sub_bench")
    results: list[Extraction | FaceError] = []
    start, cpu = time.perf_counter(), time.process_time()
    decoded = (decode_image(p.read_bytes()) for p in paths)
    for i, result in enumerate(engine.embed_stream(decoded, enrollment=True, batch=BATCH)):
        results.append(result)
        if isinstance(result, FaceError):
            continue
        protector.seal_template(
            protector.protect(result.embedding),
            subject_id="sub_bench",
            template_id=f"tpl_{i}",
            data_key=data_key,
        )
    return time.perf_counter() - start, time.process_time() - cpu, results


def run_gate(paths: list[Path], engine: FaceEngine) -> dict[str, Any]:
    """Gate.enroll of every photo (one consenting person each) from two threads."""
    from facegate.gate import Gate

    with (
        tempfile.TemporaryDirectory(prefix="fg-bench-gate-") as tmp,
        Gate.open(Path(tmp) / "home", engine=engine, create=True) as gate,
    ):
        dep = gate.create_deployment(
            name="Bench",
            purpose="Staff pass the turnstile by face",
            location="office",
            alternative="staff badge",
        )
        for i in range(len(paths)):
            gate.give_consent(dep.id, f"person-{i}")

        def enroll(item: tuple[int, Path]) -> bool:
            i, path = item
            try:
                gate.enroll(dep.id, f"person-{i}", path.read_bytes())
            except FaceError:
                return False
            return True

        with ThreadPoolExecutor(2) as pool:
            start = time.perf_counter()
            enrolled = sum(pool.map(enroll, enumerate(paths)))
            seconds = time.perf_counter() - start
    return {"images": len(paths), "enrolled": enrolled, "seconds": seconds}


# --- answers ---------------------------------------------------------------------------


def compare_answers(
    paths: list[Path],
    engine: FaceEngine,
    protector: TemplateProtector,
    refs: list[Reference],
    ours: list[Extraction | FaceError],
) -> dict[str, Any]:
    found = total = extra = 0
    distances: list[float] = []
    template_match = 0
    for path, ref, result in zip(paths, refs, ours, strict=True):
        boxes = [(b.left, b.top, b.right, b.bottom) for b in engine_boxes(engine, path)]
        total += len(ref.boxes)
        found += sum(any(iou(r, b) >= 0.5 for b in boxes) for r in ref.boxes)
        extra += sum(not any(iou(r, b) >= 0.5 for r in ref.boxes) for b in boxes)
        if isinstance(result, FaceError):
            continue
        box = result.box
        mine = (box.left, box.top, box.right, box.bottom)
        overlaps = [iou(mine, r) for r in ref.boxes]
        if not overlaps or max(overlaps) < 0.5:
            continue
        theirs = ref.encodings[int(np.argmax(overlaps))]
        distances.append(float(np.linalg.norm(result.embedding - theirs)))
        template_match += protector.matches(
            protector.protect(result.embedding), protector.protect(theirs)
        )
    d = np.asarray(distances)
    return {
        "reference_faces": total,
        "detection_recall": found / total,
        "faces_not_found": total - found,
        "extra_faces": extra,
        "embeddings_compared": len(d),
        "embedding_distance_mean": float(d.mean()),
        "embedding_distance_p99": float(np.percentile(d, 99)),
        "embedding_distance_max": float(d.max()),
        "same_person_at_0_6": float(np.mean(d < 0.6)),
        "templates_match": template_match / len(d),
    }


def engine_boxes(engine: FaceEngine, path: Path) -> list[FaceBox]:
    image: DecodedImage = decode_image(path.read_bytes())
    return engine.detect(image)


# --- chips ------------------------------------------------------------------------------


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
    paths: list[Path], backend: OnnxBackend, n_chips: int, min_seconds: float
) -> dict[str, dict[str, float]]:
    models = DlibModels()
    cut: list[Chips] = []
    for path in paths:
        if len(cut) >= n_chips:
            break
        cut.extend(models.chips(load_rgb(path)))
    chips = np.stack(cut[:n_chips])
    results: dict[str, dict[str, float]] = {"dlib": {}, "onnx": {}}
    backend.warmup()
    for bs in BATCH_SIZES:
        backend.max_batch = bs
        backend.embed_chips(chips[: min(len(chips), bs)])  # warm this batch shape
        secs = timed(lambda: backend.embed_chips(chips), min_seconds)
        results["onnx"][str(bs)] = len(chips) / secs
        secs = timed(functools.partial(models.embed, chips, bs), min_seconds)
        results["dlib"][str(bs)] = len(chips) / secs
    backend.max_batch = 64
    return results


def describe_answers(answers: dict[str, Any]) -> str:
    return (
        f"answers: detection recall {answers['detection_recall']:.4f} of "
        f"{answers['reference_faces']} dlib faces ({answers['faces_not_found']} missed, "
        f"{answers['extra_faces']} extra); over {answers['embeddings_compared']} faces "
        f"embedded by both, distance mean {answers['embedding_distance_mean']:.4f}, p99 "
        f"{answers['embedding_distance_p99']:.4f}, max {answers['embedding_distance_max']:.4f}; "
        f"templates match {answers['templates_match']:.4f}"
    )


def describe_chips(chips: dict[str, dict[str, float]], threads: int) -> str:
    lines = [
        f"chip embedding, images/s ({threads} onnxruntime threads):",
        f"  {'batch':>5}  {'dlib':>8}  {'onnx':>8}  {'speed-up':>8}",
    ]
    for bs in BATCH_SIZES:
        d, o = chips["dlib"][str(bs)], chips["onnx"][str(bs)]
        lines.append(f"  {bs:>5}  {d:8.1f}  {o:8.1f}  {o / d:7.1f}x")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 8th photo, under a minute")
    parser.add_argument("--json", action="store_true", help="stdout: only the JSON line")
    parser.add_argument("--faces", type=Path, default=default_faces_dir())
    parser.add_argument("--no-gate", action="store_true", help="skip the Gate.enroll run")
    parser.add_argument("--no-chips", action="store_true", help="skip the chip embedding run")
    args = parser.parse_args(argv)
    human: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=human, flush=True)

    command = shlex.join(
        ["python", "bench/throughput.py", *(argv if argv is not None else sys.argv[1:])]
    )
    say(f"command: {command}")
    paths = photo_paths(args.faces)
    if not paths:
        raise SystemExit(f"no photos under {args.faces}")
    if args.quick:
        paths = paths[::8]

    backend = OnnxBackend()
    engine = FaceEngine(backend=backend)
    engine.warm_up()
    protector = TemplateProtector("dep_bench", keys.new_key())
    say(f"{len(paths)} photos, {available_cores()} cores, load average {os.getloadavg()[0]:.1f}")
    report_load = os.getloadavg()[0]

    fr_seconds, fr_cpu, refs = run_face_recognition(paths)
    fr_rate = len(paths) / fr_seconds
    say(
        f"  face_recognition face_encodings(load_image_file): {fr_rate:6.2f} images/s"
        f"  ({1000 * fr_cpu / len(paths):.1f} CPU ms per image)"
    )
    ours_seconds, ours_cpu, ours = run_engine(paths, engine, protector)
    ours_rate = len(paths) / ours_seconds
    say(
        f"  facegate decode..protect+seal (engine):           {ours_rate:6.2f} images/s"
        f"  ({1000 * ours_cpu / len(paths):.1f} CPU ms per image)"
    )
    say(
        f"  ratio: {ours_rate / fr_rate:.2f}x images/s, {fr_cpu / ours_cpu:.2f}x less CPU per image"
    )
    report: dict[str, Any] = {
        "bench": "throughput",
        "command": command,
        "quick": args.quick,
        "images": len(paths),
        "cores": available_cores(),
        "python": platform.python_version(),
        "face_recognition_images_per_s": fr_rate,
        "face_recognition_cpu_ms_per_image": 1000 * fr_cpu / len(paths),
        "facegate_engine_images_per_s": ours_rate,
        "facegate_engine_cpu_ms_per_image": 1000 * ours_cpu / len(paths),
        "speedup_engine": ours_rate / fr_rate,
        "cpu_ratio_engine": fr_cpu / ours_cpu,
        "enrolled_by_engine": sum(isinstance(r, Extraction) for r in ours),
    }
    if not args.no_gate:
        gate = run_gate(paths, engine)
        gate_rate = gate["images"] / gate["seconds"]
        say(
            f"  facegate Gate.enroll, 2 threads (store, ledger):  {gate_rate:6.2f} images/s"
            f"  = {gate_rate / fr_rate:.2f}x face_recognition ({gate['enrolled']} enrolled)"
        )
        report["facegate_gate_images_per_s"] = gate_rate
        report["speedup_gate"] = gate_rate / fr_rate
        report["enrolled_by_gate"] = gate["enrolled"]
    report["load_average_before"] = report_load
    report["load_average_after"] = os.getloadavg()[0]

    report["answers"] = compare_answers(paths, engine, protector, refs, ours)
    say(describe_answers(report["answers"]))
    if not args.no_chips:
        report["chip_images_per_s"] = bench_chips(
            paths, backend, 32 if args.quick else 256, 0.5 if args.quick else 2.0
        )
        say(describe_chips(report["chip_images_per_s"], backend.intra_op_num_threads))
    print(json.dumps(report, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
