"""Template protection on every shared photo set, measured the ISO/IEC 30136 way.

For each set (in_the_wild/master.csv, orl, faces94, celebrities, and an LFW-format set of
10 folds made from all of them) and each scheme it reports what ``facegate bench
protection`` does: 10-fold accuracy protected vs raw, EER, TAR at FAR 1e-3/1e-4, D<->sys
across two deployment keys, the renewed-template match rate beside the false-match rate at
the threshold, the stolen-key attack's acceptance by the raw system beside its genuine
acceptance (and the public mean face's, which needs no key), template size and 1:N
comparisons per second on one core. Then one table per figure across the sets, and the
targets of the project's issue 3 with whether each scheme meets them.

Usage:
    python bench/protection.py [--quick] [--sweep] [--json] [--faces DIR] [--cache FILE]

``--sweep`` adds the trade-off variants (phasefold bandwidths, longer biohash templates) and
the secure-sketch family (``facegate.evaluation.sketch``: measured, not a storable scheme).
Human-readable figures go to stdout (to stderr with --json); with --json the last line is
one JSON object ``{set: {"default": ..., "schemes": {...}}}``. BLAS runs on one thread so
that the speed figures are per core; the machine is shared, so the load average is printed.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: one core, no spinning
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import csv
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from facegate.cli.bench import SWEEP, _schemes  # noqa: E402
from facegate.evaluation import datasets, render  # noqa: E402
from facegate.evaluation.datasets import Comparisons  # noqa: E402
from facegate.evaluation.embeddings import EmbeddingCache  # noqa: E402
from facegate.evaluation.report import (  # noqa: E402
    ACCURACY_MARGIN,
    ORACLE_RADII,
    Options,
    Report,
    attack_targets,
    evaluate,
)
from facegate.evaluation.runs import default_names, embedder, with_he  # noqa: E402
from facegate.evaluation.sketch import codebook_bits, sketch_figures  # noqa: E402

FOLDER_SETS = ("orl", "faces94", "celebrities")
#: codeword weights of the secure-sketch rows of --sweep
SKETCH_ALPHAS = (4, 6, 8, 12)


def default_faces() -> Path:
    env = os.environ.get("FACEGATE_FACES")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "faces"


def in_the_wild(faces: Path, cache: EmbeddingCache) -> Comparisons:
    base = faces / "in_the_wild"
    with (base / "master.csv").open(newline="") as fh:
        pairs = [
            (base / r["file_x"], base / r["file_y"], r["Decision"].strip() == "Yes")
            for r in csv.DictReader(fh)
        ]
    embedded = cache.embed(sorted({p for a, b, _ in pairs for p in (a, b)}))
    return datasets.pairs_comparisons("in_the_wild", pairs, embedded)


def folder_set(faces: Path, name: str, cache: EmbeddingCache) -> Comparisons:
    photos = datasets.folder_photos(faces / name)
    return datasets.folder_comparisons(name, photos, cache.embed(photos.paths))


#: biohash-v2 was tuned on in_the_wild and orl only; these people were never looked at
HELD_OUT = ("faces94", "celebrities")


def lfw_format(
    faces: Path, cache: EmbeddingCache, work: Path, per_fold: int, held_out: bool = False
) -> Comparisons:
    names = HELD_OUT if held_out else FOLDER_SETS
    sources = [faces / n for n in names] + [faces / "fixtures" / "knn" / "train"]
    pairs_file = datasets.write_lfw_fixture(sources, work, folds=10, per_fold=per_fold, seed=0)
    pairs = datasets.read_lfw_pairs(pairs_file, work)
    embedded = cache.embed(datasets.lfw_photos(pairs).paths)
    label = "lfw-heldout (faces94, celebrities, knn)" if held_out else "lfw-format (shared sets)"
    return datasets.lfw_comparisons(label, pairs, embedded)


def _pct(v: float | None) -> str:
    return "   n/a" if v is None else f"{100 * v:6.2f}"


def summary(reports: list[Report], out: TextIO) -> None:
    names = [s.name for s in reports[0].schemes]
    sets = [r.dataset.split(" ")[0] for r in reports]
    width = max(len(n) for n in names) + 2
    head = f"{'scheme':<{width}}" + "".join(f"{s[:14]:>15}" for s in sets)

    def table(title: str, cell: Any) -> None:
        print(f"\n{title}", file=out)
        print(head, file=out)
        for i, name in enumerate(names):
            print(
                f"{name:<{width}}" + "".join(f"{cell(r, r.schemes[i]):>15}" for r in reports),
                file=out,
            )

    table(
        "10-fold accuracy, protected - raw (points); raw in brackets",
        lambda r, s: (
            f"{100 * (s.accuracy - s.unprotected_accuracy):+.2f} "
            f"({100 * s.unprotected_accuracy:.2f})"
        ),
    )
    table("EER %", lambda r, s: _pct(s.eer))
    table("TAR at FAR 1e-3 %", lambda r, s: _pct(s.tar_at_far_1e3))
    table("TAR at FAR 1e-4 %", lambda r, s: _pct(s.tar_at_far_1e4))
    table(
        "D<->sys across two keys (0 = unlinkable)",
        lambda r, s: f"{s.dsys:.3f}" if s.dsys is not None else "n/a",
    )
    table(
        "renewed-template match rate % / FMR at threshold %",
        lambda r, s: f"{100 * (s.renewed_match_rate or 0):.2f}/{100 * s.fmr_at_threshold:.3f}",
    )
    table(
        "stolen-key attack accepted % / raw genuine acceptance %",
        lambda r, s: (
            f"{100 * (s.stolen_key_attack_acceptance or 0):.0f}/"
            f"{100 * r.unprotected.genuine_acceptance:.0f}"
        ),
    )
    print(
        "\npublic mean face (no key) accepted by the raw system: "
        + ", ".join(
            f"{s} {100 * r.unprotected.mean_face_acceptance:.0f}%"
            for s, r in zip(sets, reports, strict=True)
        ),
        file=out,
    )
    print(
        "raw reference threshold (distance): "
        + ", ".join(
            f"{s} {r.unprotected.reference_threshold:.3f}"
            for s, r in zip(sets, reports, strict=True)
        ),
        file=out,
    )
    print("\ntemplate bytes, 1:N comparisons/s on one core (best of 5):", file=out)
    for s in reports[0].schemes:
        speed = f"{s.comparisons_per_s / 1e6:.1f} M/s" if s.comparisons_per_s else "n/a"
        print(f"  {s.name:<{width}} {s.template_bytes:>6} B  {speed}", file=out)


def targets(reports: list[Report], out: TextIO) -> None:
    print("\ntargets of issue 3 (per scheme, over every set):", file=out)
    for i, s0 in enumerate(reports[0].schemes):
        rows = [r.schemes[i] for r in reports]
        accuracy = all(s.unprotected_accuracy - s.accuracy <= ACCURACY_MARGIN for s in rows)
        link = all(s.dsys is not None and s.dsys <= 0.05 for s in rows)
        renew = all((s.renewed_match_rate or 0) <= s.fmr_at_threshold for s in rows)
        attack = all(
            (s.stolen_key_attack_acceptance or 0) <= r.unprotected.genuine_acceptance / 2
            for s, r in zip(rows, reports, strict=True)
        )
        speed = (s0.comparisons_per_s or 0) >= 50e6
        print(
            f"  {s0.name}: accuracy within 0.2 points {_yes(accuracy)}; "
            f"D<->sys <= 0.05 {_yes(link)}; "
            f"renewed <= FMR {_yes(renew)}; attack <= half genuine {_yes(attack)}; "
            f">= 50 M comparisons/s {_yes(speed)}",
            file=out,
        )


def oracle_bound(reports: list[Report], out: TextIO) -> None:
    """What the ideal scheme (accept/reject only, ``facegate.evaluation.oracle``) concedes."""
    print(
        "\nbound on any scheme: an ideal template that reveals only accept/reject within a "
        "radius;\naccuracy change (points) / stolen-key attack accepted % (same guesses as "
        "above); * = both targets met on this set",
        file=out,
    )
    names = [r.dataset.split(" ")[0] for r in reports]
    print(f"{'radius':<10}" + "".join(f"{n[:14]:>17}" for n in names), file=out)
    feasible = []
    for i, radius in enumerate(ORACLE_RADII):
        cells, met = [], []
        for report in reports:
            f = report.bound[i]
            ok = (
                f.unprotected_accuracy - f.accuracy <= ACCURACY_MARGIN
                and f.stolen_key_attack_acceptance <= report.unprotected.genuine_acceptance / 2
            )
            met.append(ok)
            cells.append(
                f"{100 * (f.accuracy - f.unprotected_accuracy):+.2f} / "
                f"{100 * f.stolen_key_attack_acceptance:3.0f}{'*' if ok else ' '}"
            )
        if all(met):
            feasible.append(radius)
        print(f"{radius:<10.2f}" + "".join(f"{c:>17}" for c in cells), file=out)
    print(
        "radii meeting both targets on every set: "
        + (", ".join(f"{r:.2f}" for r in feasible) if feasible else "none"),
        file=out,
    )


def sketches(sets: list[Comparisons], reports: list[Report], options: Options, out: TextIO) -> None:
    """The secure-sketch family (``facegate.evaluation.sketch``, measured, not offered)."""
    print(
        "\nsecure sketch (IronMask-style; no graded score, so no slope to climb): accuracy "
        "change (points) / stolen-template attack accepted % (opened by a guess %)",
        file=out,
    )
    names = [r.dataset.split(" ")[0] for r in reports]
    print(f"{'alpha (codebook bits)':<24}" + "".join(f"{n[:14]:>24}" for n in names), file=out)
    for alpha in SKETCH_ALPHAS:
        cells = []
        for data, report in zip(sets, reports, strict=True):
            rng = np.random.default_rng(options.seed)
            f = sketch_figures(
                data,
                alpha=alpha,
                unprotected_accuracy=report.unprotected.accuracy,
                reference_threshold=report.unprotected.reference_threshold,
                targets=attack_targets(data, options.attack_targets, rng),
                seed=options.seed,
            )
            cells.append(
                f"{100 * (f.accuracy - f.unprotected_accuracy):+.2f} / "
                f"{100 * f.stolen_key_attack_acceptance:.0f} ({100 * f.opened_by_guess:.0f})"
            )
        label = f"{alpha} ({codebook_bits(alpha):.0f})"
        print(f"{label:<24}" + "".join(f"{c:>24}" for c in cells), file=out)


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer keys, targets and rows")
    ap.add_argument("--sweep", action="store_true", help="also the trade-off variants")
    ap.add_argument("--json", action="store_true", help="end with one JSON object")
    ap.add_argument("--faces", type=Path, default=default_faces())
    ap.add_argument("--cache", type=Path, help="embedding cache (.npz)")
    ap.add_argument("--sets", default="in_the_wild,orl,faces94,celebrities,lfw,lfw-heldout")
    ap.add_argument(
        "--he", action="store_true", help="also the encrypted modes (TenSEAL; OpenFHE threshold)"
    )
    args = ap.parse_args(argv)
    out = sys.stderr if args.json else sys.stdout
    print(f"$ {shlex.join(['python', 'bench/protection.py', *(argv or sys.argv[1:])])}", file=out)
    options = Options.quick() if args.quick else Options()
    schemes = _schemes(default_names(), args.sweep)
    cache = embedder(cache=args.cache)
    wanted = args.sets.split(",")
    reports: list[Report] = []
    sets: list[Comparisons] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            start = time.perf_counter()
            if name == "in_the_wild":
                data = in_the_wild(args.faces, cache)
            elif name in ("lfw", "lfw-heldout"):
                per_fold = 30 if args.quick else 100
                held = name == "lfw-heldout"
                data = lfw_format(args.faces, cache, Path(tmp) / name, per_fold, held)
            else:
                data = folder_set(args.faces, name, cache)
            cache.save()
            report = with_he(evaluate(data, schemes, options), data, args.he)
            reports.append(report)
            sets.append(data)
            print(
                f"\n== {name} ({time.perf_counter() - start:.0f} s, "
                f"load {os.getloadavg()[0]:.1f}) ==",
                file=out,
            )
            print(render(report), file=out)
    summary(reports, out)
    targets(reports, out)
    oracle_bound(reports, out)
    if args.sweep:
        print(f"\n(sweep variants: {', '.join(SWEEP)})", file=out)
        sketches(sets, reports, options, out)
    if args.json:
        sys.stdout.write(json.dumps({r.dataset: r.as_json() for r in reports}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
