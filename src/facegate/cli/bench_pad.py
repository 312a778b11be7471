"""``facegate bench pad DIR``: presentation-attack detection error rates on a folder.

DIR holds ``live/`` (bona fide photos) and ``attack/`` (attack photos, directly or in one
subfolder per attack species). Prints APCER, BPCER and ACER (ISO/IEC 30107-3) of passive
liveness at the threshold; with ``--json`` the figures for people go to stderr and the
last stdout line is one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from facegate.cli.bench import bench_app
from facegate.cli.common import Home, Json, err, out, run, settings_for
from facegate.errors import InvalidInput
from facegate.liveness.passive import DEFAULT_THRESHOLD


def _species(name: str) -> str:
    return "attack" if name == "attack" else f"attack/{name}"


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.2f}%"


def _measure(folder: Path, threshold: float, home: Path | None) -> dict[str, Any]:
    from facegate.liveness import PassiveLiveness
    from facegate.liveness.evaluation import evaluate, pad_folder, score_of, score_paths
    from facegate.recognition import FaceEngine

    if not 0.0 < threshold <= 1.0:
        raise InvalidInput(f"--threshold must be in (0, 1], got {threshold}")
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder", advice="Give DIR with live/ and attack/.")
    photos = pad_folder(folder)
    engine = FaceEngine(settings_for(home).recognition)
    liveness = PassiveLiveness(threshold=threshold)
    live = score_paths(photos.live, engine, liveness)
    attacks = {name: score_paths(paths, engine, liveness) for name, paths in photos.attacks.items()}
    report = evaluate(live, attacks, threshold).as_json()
    report["model_version"] = liveness.model_version
    report["photos"] = [
        {
            "path": str(s.path.relative_to(folder)),
            "class": kind,
            "score": score_of(s),
            "error": s.error,
        }
        for kind, group in [("live", live), *[(_species(k), v) for k, v in attacks.items()]]
        for s in group
    ]
    return report


def _render(report: dict[str, Any], as_json: bool) -> None:
    console = err if as_json else out
    bona = report["bona_fide"]
    lines = [
        f"passive liveness {report['model_version']}, threshold {report['threshold']}",
        f"BPCER {_percent(report['bpcer'])}  ({bona['refused']} of {bona['presented']} live "
        f"photos refused; {bona['not_processed']} not processed)",
    ]
    lines += [
        f"APCER {_species(name)}: {_percent(row['apcer'])}  ({row['accepted']} of "
        f"{row['presented']} attacks accepted; {row['not_processed']} not processed)"
        for name, row in report["attack_species"].items()
    ]
    lines.append(
        f"APCER {_percent(report['apcer'])} (worst species)  ACER {_percent(report['acer'])}"
    )
    for line in lines:
        console.print(line, markup=False, highlight=False)


@bench_app.command("pad")
def pad(
    folder: Annotated[Path, typer.Argument(help="photos laid out DIR/live/ and DIR/attack/")],
    threshold: Annotated[
        float, typer.Option(help="live probability a face needs")
    ] = DEFAULT_THRESHOLD,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """APCER, BPCER and ACER (ISO/IEC 30107-3) of passive liveness on DIR/live and
    DIR/attack[/SPECIES]; photos with no face found are counted apart, not in the rates."""
    report = run(as_json, lambda: _measure(folder, threshold, home))
    _render(report, as_json)
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
