"""``facegate campaign``: enrollment campaigns of many photos on Ray (:mod:`facegate.scale`).

``campaign roster`` signs the list of people with a consent in force; ``campaign run`` enrolls
a folder or CSV manifest against it, in manifest order, and resumes where it stopped when run
again. Ray is an optional extra (``pip install 'facegate[ray]'``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from facegate import errors as e
from facegate.cli.common import DeploymentId, Home, Json, Key, emit, err, gate_for, out, run
from facegate.flows.enforce import require

campaign_app = typer.Typer(
    help="Enrollment campaigns of many photos against a signed roster (Ray).",
    no_args_is_help=True,
)
Opt = typer.Option


@campaign_app.command("roster")
def campaign_roster(
    deployment: DeploymentId,
    output: Annotated[Path, Opt("--out", "-o", help="where to write the signed roster")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Sign the roster of people with a consent in force in DEPLOYMENT (pseudonyms only)."""
    from facegate.scale.roster import issue_roster

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            require(gate.actor, "process_faces", "issue an enrollment roster")
            doc = issue_roster(gate.core, deployment)
        try:
            output.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        except OSError as exc:
            raise e.InvalidInput(f"cannot write {output}: {exc.strerror}") from None
        return {"roster": str(output), "people": len(doc["refs"]), "issued_at": doc["issued_at"]}

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(f"roster of {r['people']} people signed, written to {r['roster']}"),
    )


@campaign_app.command("run")
def campaign_run(
    deployment: DeploymentId,
    source: Annotated[Path, typer.Argument(help="a folder of photos or a CSV manifest")],
    roster: Annotated[Path, Opt(help="the roster from 'facegate campaign roster'")],
    kind: Annotated[
        str, Opt(help="enroll, reenroll (after a key revocation) or migrate (a new model)")
    ] = "enroll",
    workers: Annotated[int, Opt(min=1, max=256, help="Ray workers (face engines)")] = 2,
    address: Annotated[
        str | None, Opt(help="a running Ray cluster's address; a local one if not given")
    ] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Enroll SOURCE's photos of the people on the roster; run it again to resume."""
    from facegate.scale.enroll import run_batch
    from facegate.scale.roster import open_roster

    def act() -> dict[str, Any]:
        if kind not in ("enroll", "reenroll", "migrate"):
            raise e.InvalidInput("--kind must be enroll, reenroll or migrate")
        if not source.exists():
            raise e.InvalidInput(f"{source} does not exist")
        doc = _read_roster(roster)
        with gate_for(home, key) as gate:
            require(gate.actor, "process_faces", "run an enrollment campaign")
            report = run_batch(
                gate.core,
                gate.actor,
                deployment,
                source,
                open_roster(gate.core, doc, deployment),
                kind=_kind(kind),
                workers=workers,
                address=address,
                progress=None if as_json else _progress,
            )
        return {
            "job": report.job_id,
            "kind": report.kind,
            "total": report.total,
            "position": report.position,
            "enrolled": report.enrolled,
            "skipped": report.skipped,
            "status": report.status,
        }

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"campaign {r['job']} {r['status']}: {r['enrolled']} enrolled of {r['total']}"
            + "".join(f", {n} skipped ({why})" for why, n in sorted(r["skipped"].items()))
        ),
    )


def _read_roster(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise e.InvalidInput(f"cannot read the roster {path}: {exc.strerror}") from None
    except ValueError:
        raise e.InvalidInput(f"{path} is not a roster (not JSON)") from None
    if not isinstance(doc, dict):
        raise e.InvalidInput(f"{path} is not a roster")
    return doc


def _kind(kind: str) -> Literal["enroll", "reenroll", "migrate"]:
    return "enroll" if kind == "enroll" else "reenroll" if kind == "reenroll" else "migrate"


def _progress(report: Any) -> None:
    err.print(f"{report.position}/{report.total} rows, {report.enrolled} enrolled")
