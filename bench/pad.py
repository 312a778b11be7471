"""Passive liveness (MiniFASNet) error rates on the shared photos and the authors' samples.

Bona fide (live): every photo of ../shared/data/faces (--quick: every 8th) and the authors'
live sample image_T1.jpg. Attacks: the authors' two samples, image_F1.jpg (a printed
photo: species "print") and image_F2.jpg (a photo shown on a screen: species "replay").
Each photo's largest face (facegate's detector) is judged as ``PassiveLiveness`` does.

Prints APCER, BPCER and ACER (ISO/IEC 30107-3) at the threshold, BPCER per photo set and
for colour/greyscale photos and photos with little surroundings (context < 0.5), the attack
samples' scores, a threshold sweep, and the time per photo (detection included). What the
figures are worth: the live photos are posed research photos, many of them greyscale scans
(ORL, 92x112) or tight face crops (celebrities, 150x150) that show the models none of the
surroundings they were trained to look at; the attacks are two photos. The figures describe
these photos, not live users in front of a camera, and say nothing about attacks in
general. Usage:
    python bench/pad.py [--quick] [--json] [--threshold T] [--faces DIR] [--samples DIR]

Human-readable figures go to stdout (to stderr with --json); the last stdout line is
always one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.liveness import DEFAULT_THRESHOLD, PassiveLiveness  # noqa: E402
from facegate.liveness.evaluation import (  # noqa: E402
    Scored,
    evaluate,
    image_files,
    score_of,
    score_paths,
    verdicts,
)
from facegate.recognition import FaceEngine  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def _rate(values: list[bool | None], refused: bool) -> tuple[int, int]:
    done = [v for v in values if v is not None]
    return sum((not v) if refused else v for v in done), len(done)


def _per_set(live: list[Scored], faces: Path, threshold: float) -> dict[str, Any]:
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in live:
        groups[
            s.path.relative_to(faces).parts[0] if s.path.is_relative_to(faces) else "sample"
        ].append(s)
    out: dict[str, Any] = {}
    for name, found in sorted(groups.items()):
        refused, done = _rate(verdicts(found, threshold), refused=True)
        scores = [x for x in map(score_of, found) if x is not None]
        out[name] = {
            "photos": len(found),
            "no_face": len(found) - done,
            "refused": refused,
            "bpcer": refused / done if done else None,
            "min_score": min(scores) if scores else None,
        }
    return out


def _subsets(live: list[Scored], threshold: float) -> dict[str, Any]:
    """BPCER on the live photos split by the two facts that explain most refusals."""
    done = [s for s in live if s.probabilities is not None]
    subsets = {
        "colour": [s for s in done if s.colour],
        "greyscale": [s for s in done if not s.colour],
        "colour, context >= 0.5": [s for s in done if s.colour and s.context >= 0.5],
        "colour, context < 0.5": [s for s in done if s.colour and s.context < 0.5],
    }
    out: dict[str, Any] = {}
    for name, found in subsets.items():
        refused, count = _rate(verdicts(found, threshold), refused=True)
        out[name] = {
            "photos": count,
            "refused": refused,
            "bpcer": refused / count if count else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=Path, default=SHARED / "faces")
    parser.add_argument(
        "--samples", type=Path, default=SHARED / "models" / "silent-face-anti-spoofing"
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--quick", action="store_true", help="every 8th shared photo")
    parser.add_argument("--json", action="store_true", help="human figures to stderr")
    args = parser.parse_args()
    say = sys.stderr if args.json else sys.stdout

    live_paths = image_files(args.faces)[:: 8 if args.quick else 1]
    live_paths.append(args.samples / "image_T1.jpg")
    attack_paths = {
        "print": [args.samples / "image_F1.jpg"],
        "replay": [args.samples / "image_F2.jpg"],
    }
    engine, liveness = FaceEngine(), PassiveLiveness(threshold=args.threshold)
    liveness.warm_up()
    start = time.perf_counter()
    live = score_paths(live_paths, engine, liveness)
    elapsed = time.perf_counter() - start
    attacks = {k: score_paths(v, engine, liveness) for k, v in attack_paths.items()}

    metrics = evaluate(live, attacks, args.threshold)
    sweep = {str(t): evaluate(live, attacks, t).as_json() for t in SWEEP}
    samples = {s.path.name: score_of(s) for s in [live[-1], *attacks["print"], *attacks["replay"]]}
    report = {
        "command": "python bench/pad.py" + (" --quick" if args.quick else ""),
        "model_version": liveness.model_version,
        "metrics": metrics.as_json(),
        "per_set": _per_set(live, args.faces, args.threshold),
        "live_subsets": _subsets(live, args.threshold),
        "sample_scores": samples,
        "sweep": {t: {k: v[k] for k in ("apcer", "bpcer", "acer")} for t, v in sweep.items()},
        "seconds_per_photo_with_detection": elapsed / max(1, len(live)),
    }
    m = report["metrics"]
    print(f"model {liveness.model_version}, threshold {args.threshold}", file=say)
    print(
        f"APCER {m['apcer']}  BPCER {m['bpcer']}  ACER {m['acer']}  "
        f"(bona fide {m['bona_fide']}, attacks {m['attack_species']})",
        file=say,
    )
    for name, row in report["per_set"].items():
        print(f"  {name:12} {row}", file=say)
    for name, row in report["live_subsets"].items():
        print(f"  {name:24} {row}", file=say)
    print(f"sample scores (P(live)): {samples}", file=say)
    for t, row in report["sweep"].items():
        print(f"  threshold {t:5}: {row}", file=say)
    print(f"{report['seconds_per_photo_with_detection'] * 1000:.1f} ms per photo", file=say)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
