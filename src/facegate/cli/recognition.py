"""Recognition on the command line: enroll, verify and identify over one photo or many
(:mod:`facegate.cli.batch`), and detect, compare, liveness challenges, flags, the threshold
report and alerts. Output pipes: one ``file,result`` line per photo on stdout."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.batch import Item, read_source, run_batch
from facegate.cli.common import (
    DeploymentId,
    Home,
    Json,
    Key,
    emit,
    gate_for,
    out,
    read_image,
    run,
)

if TYPE_CHECKING:
    from facegate.gate import Gate

Opt = typer.Option
SourceArg = Annotated[
    str,
    typer.Argument(
        help="a photo, a folder of photos, a CSV manifest (file[,subject]) or - for stdin",
        show_default=False,
    ),
]
Subject = Annotated[
    str | None,
    Opt("--subject", "-s", help="the operator's id for the person (else from the folder/CSV)"),
]
Challenge = Annotated[
    str | None, Opt("--challenge", help="a passed liveness challenge id (docs/liveness.md)")
]
liveness_app = typer.Typer(help="Active liveness challenges (blink, head turn).")


def _recognise(
    source: str,
    subject: str | None,
    *,
    need_subject: bool,
    act: Any,
    line: Any,
    single: Any,
    home: Path | None,
    key: str | None,
    as_json: bool,
) -> None:
    """One photo: its result (as ``single`` prints it) and the error tree's exit codes; many:
    a line each, and the status of the first failure."""
    found = run(as_json, lambda: read_source(source, subject, need_subject=need_subject))
    if found.single:
        item = found.items[0]
        data = read_image(Path(source), as_json) if item.path else item.read()

        def one() -> dict[str, Any]:
            with gate_for(home, key) as gate:
                result: dict[str, Any] = act(gate, item, data)
                return result

        result = run(as_json, one)
        emit(as_json, result, lambda: single(item, result))
        return
    with gate_for(home, key) as gate:
        status = run_batch(gate, found.items, act, line, as_json=as_json)
    raise typer.Exit(status)


def enroll(
    deployment: DeploymentId,
    source: SourceArg,
    subject: Subject = None,
    challenge: Challenge = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Enroll the one face of each photo for a person who has consented. Prints
    file,enrolled,TEMPLATE_ID (or file,ERROR_CODE)."""

    def act(gate: Gate, item: Item, data: bytes) -> dict[str, Any]:
        return gate.enroll(deployment, item.who(), data, challenge_id=challenge).to_dict()

    def line(item: Item, r: dict[str, Any]) -> list[str]:
        return [f"{item.name},enrolled,{r['template_id']}"]

    _recognise(
        source, subject, need_subject=True, act=act, line=line,
        single=lambda i, r: out.print(line(i, r)[0], highlight=False),
        home=home, key=key, as_json=as_json,
    )  # fmt: skip


def verify(
    deployment: DeploymentId,
    source: SourceArg,
    subject: Subject = None,
    challenge: Challenge = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Is the face in each photo this person? Prints file,decision,score."""

    def act(gate: Gate, item: Item, data: bytes) -> dict[str, Any]:
        return gate.verify(deployment, item.who(), data, challenge_id=challenge).to_dict()

    def line(item: Item, r: dict[str, Any]) -> list[str]:
        return [f"{item.name},{r['decision']},{r['score']:.4f}"]

    _recognise(
        source, subject, need_subject=True, act=act, line=line,
        single=lambda i, r: out.print(line(i, r)[0], highlight=False),
        home=home, key=key, as_json=as_json,
    )  # fmt: skip


def identify(
    deployment: DeploymentId,
    source: SourceArg,
    top: Annotated[int, Opt(help="name up to N candidates above the threshold")] = 1,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Who in this deployment is the face in each photo? Prints file,name (unknown_person
    for nobody); with --top N, file,name,score per candidate. A refusal by the law exits 4
    citing the rule; it is never 'unknown'."""

    def act(gate: Gate, item: Item, data: bytes) -> dict[str, Any]:
        return gate.identify(deployment, data, top=top).to_dict()

    def line(item: Item, r: dict[str, Any]) -> list[str]:
        if top == 1 or not r["candidates"]:
            return [f"{item.name},{r['subject_ref'] or 'unknown_person'}"]
        return [f"{item.name},{c['subject_ref']},{c['score']:.4f}" for c in r["candidates"]]

    _recognise(
        source, None, need_subject=False, act=act, line=line,
        single=lambda i, r: out.print("\n".join(line(i, r)), highlight=False),
        home=home, key=key, as_json=as_json,
    )  # fmt: skip


def detect(
    deployment: DeploymentId,
    image: Annotated[Path, typer.Argument(help="photo file", show_default=False)],
    landmarks: Annotated[int, Opt(help="landmarks per face: 0, 5 or 68")] = 5,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Every face in IMAGE: prints file,left,top,right,bottom,score per face."""
    data = read_image(image, as_json)

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.detect(deployment, data, landmarks=landmarks).to_dict()

    r = run(as_json, act)

    def human() -> None:
        for f in r["faces"]:
            b = f["box"]
            out.print(f"{image},{b['left']},{b['top']},{b['right']},{b['bottom']},{f['score']}")

    emit(as_json, r, human)


def compare(
    deployment: DeploymentId,
    source: Annotated[Path, typer.Argument(help="first photo", show_default=False)],
    target: Annotated[Path, typer.Argument(help="second photo", show_default=False)],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Are the largest faces of two photos the same person? Prints a,b,decision,score.
    Neither photo is stored; the act is ledgered with both hashes."""
    first, second = read_image(source, as_json), read_image(target, as_json)

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.compare(deployment, first, second).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{source},{target},{r['decision']},{r['score']:.4f}"))


def flag(
    event_id: Annotated[str, typer.Argument(help="the verify/identify/compare event")],
    verdict: Annotated[str, Opt(help="false_accept or false_reject")],
    note: Annotated[str, Opt(help="why (kept only as a hash)")] = "",
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Flag a recognition decision as wrong; it feeds the threshold report."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.flag_match(event_id, verdict, note=note).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['flagged_event_id']},{r['verdict']},{r['event_id']}"))


def thresholds(
    deployment: DeploymentId, home: Home = None, key: Key = None, as_json: Json = False
) -> None:
    """Decisions and flagged mistakes per threshold (threshold,decisions,accepts,rejects,
    false_accepts,false_rejects)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.threshold_report(deployment).to_dict()

    r = run(as_json, act)

    def human() -> None:
        out.print("threshold,decisions,accepts,rejects,false_accepts,false_rejects")
        for w in r["rows"]:
            out.print(
                f"{w['threshold']},{w['decisions']},{w['accepts']},{w['rejects']},"
                f"{w['false_accepts']},{w['false_rejects']}"
            )

    emit(as_json, r, human)


def alerts(
    deployment: DeploymentId,
    since: Annotated[datetime | None, Opt(help="only alerts after this time")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Unknown-face alerts: prints at,event_id,input_sha256."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [a.to_dict() for a in gate.alerts(deployment, since=since)]

    rows = run(as_json, act)

    def human() -> None:
        for a in rows:
            out.print(f"{a['at']},{a['event_id']},{a['input_sha256']}", highlight=False)

    emit(as_json, rows, human)


@liveness_app.command("challenge")
def liveness_challenge(
    deployment: DeploymentId,
    subject: Annotated[str, Opt("--subject", "-s", help="the operator's id for the person")],
    act_: Annotated[str, Opt("--act", help="enroll or verify")],
    frames: Annotated[list[Path], typer.Argument(help="camera frames, in time order")],
    challenge: Annotated[str | None, Opt(help="blink, turn_left or turn_right")] = None,
    mirrored: Annotated[bool, Opt(help="the frames are a mirrored preview")] = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Issue a challenge and answer it with FRAMES; prints the challenge id and verdict.
    Then enroll or verify with --challenge ID and one of the frames."""
    data = [read_image(f, as_json) for f in frames]

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            issued = gate.liveness_challenge(deployment, subject, act=act_, challenge=challenge)
            answer = gate.answer_challenge(deployment, issued.challenge_id, data, mirrored=mirrored)
            return answer.to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['challenge_id']},{r['challenge']},{r['passed']}"))
    if not r["passed"]:
        raise typer.Exit(3)


def register_commands(app: typer.Typer) -> None:
    """Add the recognition verbs to the ``facegate`` command."""
    for command in (enroll, verify, identify, detect, compare, flag, thresholds, alerts):
        app.command(command.__name__)(command)
    app.add_typer(liveness_app, name="liveness")
