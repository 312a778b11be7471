"""``facegate bench``: measure template protection the ISO/IEC 30136 way.

Both commands print the figures for people (to stderr with ``--json``), then, with
``--json``, one JSON object ``{"default": NAME, "schemes": {NAME: {...}}}`` on stdout.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from facegate.cli.common import Home, Json, err, out, run, settings_for
from facegate.errors import InvalidInput

if TYPE_CHECKING:
    from facegate.evaluation.report import Options, Report
    from facegate.templates import TemplateScheme

    Make = Callable[[Options, Callable[[str], None]], Report]

bench_app = typer.Typer(
    help="Benchmarks of template protection (ISO/IEC 30136).", no_args_is_help=True
)

#: the variants ``--sweep`` adds: the trade-off of docs/template-protection.md
SWEEP: Final = (
    "biohash-v1:2048",
    "phasefold-v1@h=0.15",
    "phasefold-v1@h=0.18",
    "phasefold-v1@h=0.22",
    "phasefold-v1@h=0.25",
    "phasefold-v1@h=0.3",
    "phasefold-v1:8192",
    "phasefold-v1@h=0.25:8192",
)
_VARIANT: Final = re.compile(r"phasefold-v1@h=(?P<h>[0-9.]+)(?::(?P<bits>[0-9]+))?")

Quick = Annotated[bool, typer.Option("--quick", help="fewer keys, attack targets and rows")]
Schemes = Annotated[
    list[str] | None,
    typer.Option(
        "--scheme",
        help="a scheme to measure (repeatable; default: every registered one and the "
        "default scheme), e.g. "
        "biohash-v1:2048 or, for measurement only, phasefold-v1@h=0.2",
    ),
]
Sweep = Annotated[bool, typer.Option("--sweep", help="also measure the trade-off variants")]
Keys = Annotated[int | None, typer.Option(help="random deployment keys per scheme")]
Targets = Annotated[int | None, typer.Option(help="templates the stolen-key attack targets")]
Cache = Annotated[
    Path | None,
    typer.Option(help="embedding cache (.npz) [env FACEGATE_BENCH_CACHE, ~/.cache/facegate]"),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="embed every photo afresh")]
Rows = Annotated[int | None, typer.Option(help="gallery rows for the 1:N speed figure")]
He = Annotated[
    bool,
    typer.Option(
        "--he",
        help="also the encrypted verification modes: single-key (needs facegate[he]) and "
        "threshold (when make install has built .venv-openfhe)",
    ),
]


def _schemes(names: list[str] | None, sweep: bool) -> list[TemplateScheme]:
    from facegate.evaluation.runs import default_names
    from facegate.templates import PhaseFoldScheme, get_scheme

    chosen = list(names or default_names())
    if sweep:
        chosen += [n for n in SWEEP if n not in chosen]
    schemes: list[TemplateScheme] = []
    for name in chosen:
        variant = _VARIANT.fullmatch(name)
        try:
            if variant:
                bits = int(variant["bits"]) if variant["bits"] else None
                width = float(variant["h"])
                schemes.append(
                    PhaseFoldScheme(bandwidth=width)
                    if bits is None
                    else PhaseFoldScheme(bits=bits, bandwidth=width)
                )
            else:
                schemes.append(get_scheme(name))
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"--scheme {name}: {exc}") from None
    return schemes


def _report(
    as_json: bool,
    quick: bool,
    keys: int | None,
    targets: int | None,
    rows: int | None,
    make: Make,
) -> None:
    from facegate.evaluation import render
    from facegate.evaluation.report import Options

    console = Console(stderr=True) if as_json else out
    base = Options.quick() if quick else Options()
    options = Options(
        keys=keys if keys is not None else base.keys,
        attack_targets=targets if targets is not None else base.attack_targets,
        speed_rows=rows if rows is not None else base.speed_rows,
        seed=base.seed,
    )

    def act() -> Report:
        return make(options, lambda msg: err.print(f"[dim]{msg}[/]"))

    report = run(as_json, act)
    console.print(render(report), markup=False, highlight=False, soft_wrap=True)
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")


@bench_app.command("protection")
def protection(
    folder: Annotated[Path, typer.Argument(help="photos laid out DIR/<person>/<photo>")],
    quick: Quick = False,
    scheme: Schemes = None,
    sweep: Sweep = False,
    keys: Keys = None,
    targets: Targets = None,
    rows: Rows = None,
    cache: Cache = None,
    no_cache: NoCache = False,
    he: He = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Accuracy, TAR@FAR, EER, unlinkability, renewability, attack acceptance per attacker
    (db, db+keystore, db+keystore+one_share, everything) beside the ideal-oracle bound,
    template bytes and 1:1 / 1:N latency of every protection scheme (and, with --he, the
    encrypted modes) on a folder of photos (one folder per person)."""
    from facegate.evaluation import folder_report
    from facegate.evaluation.runs import embedder

    def make(options: Options, progress: Callable[[str], None]) -> Report:
        return folder_report(
            folder,
            schemes=_schemes(scheme, sweep),
            he=he,
            options=options,
            cache=embedder(settings_for(home), cache, no_cache=no_cache),
            progress=progress,
        )

    _report(as_json, quick, keys, targets, rows, make)


@bench_app.command("lfw")
def lfw(
    images: Annotated[Path, typer.Option(help="LFW images: DIR/<name>/<name>_NNNN.jpg")],
    pairs: Annotated[Path, typer.Option(help="the official pairs.txt (any folds and counts)")],
    quick: Quick = False,
    scheme: Schemes = None,
    sweep: Sweep = False,
    keys: Keys = None,
    targets: Targets = None,
    rows: Rows = None,
    cache: Cache = None,
    no_cache: NoCache = False,
    he: He = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """The same figures on LFW's verification protocol (10-fold accuracy over pairs.txt)."""
    from facegate.evaluation import lfw_report
    from facegate.evaluation.runs import embedder

    def make(options: Options, progress: Callable[[str], None]) -> Report:
        return lfw_report(
            images,
            pairs,
            schemes=_schemes(scheme, sweep),
            he=he,
            options=options,
            cache=embedder(settings_for(home), cache, no_cache=no_cache),
            progress=progress,
        )

    _report(as_json, quick, keys, targets, rows, make)


from facegate.cli import bench_pad as _bench_pad  # noqa: E402, F401  registers "bench pad"
