"""``facegate report``, ``facegate filing`` and ``facegate incident``: what a regulator asks.

Reports write FILE.html or FILE.pdf (-o), JSON (--json), or HTML to standard output.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from facegate import errors as e
from facegate.cli.common import DeploymentId, Home, Json, emit, gate_for, out, run
from facegate.flows.enforce import require

if TYPE_CHECKING:
    from facegate.core import Core
    from facegate.gate import Gate
    from facegate.reports.document import Report

report_app = typer.Typer(help="PIA / DPIA and GDPR Art. 30 reports.", no_args_is_help=True)
filing_app = typer.Typer(
    help="The CN-FR-15 filing with the cyberspace administration.", no_args_is_help=True
)
incident_app = typer.Typer(
    help="Security incidents (breaches) and their notification clocks.", no_args_is_help=True
)

Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="write FILE.html or FILE.pdf", show_default=False),
]
Font = Annotated[
    Path | None,
    typer.Option(
        "--font",
        help="font file with Chinese glyphs (default: an installed Noto Sans CJK or similar)",
        show_default=False,
    ),
]
IncidentId = Annotated[str, typer.Option("--incident", "-i", help="incident id")]


def _core(gate: Gate) -> Core:
    return gate.core


def _when(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise e.InvalidInput(
            f"{what} {value!r} is not an ISO 8601 time",
            advice="Write it like 2025-10-02T09:30+08:00 (with its time zone).",
        ) from None
    if moment.tzinfo is None:
        raise e.InvalidInput(
            f"{what} {value!r} has no time zone",
            advice="Add one, e.g. +08:00 for China or Z for UTC.",
        )
    return moment


def _deliver(
    report: Report, output: Path | None, font: Path | None, as_json: bool, extra: dict[str, Any]
) -> dict[str, Any]:
    from facegate.reports.render import render_html, write_report

    result: dict[str, Any] = {**extra, "sha256": report.sha256(), "open_items": report.todo_count()}
    if output is not None:
        rendered = write_report(report, output, font=font)
        result |= {
            "output": str(rendered.path),
            "format": rendered.format,
            "bytes": rendered.bytes,
            "seconds": round(rendered.seconds, 3),
        }
    elif not as_json:
        result["html"] = render_html(report, font=font)
    if as_json:
        result["report"] = report.model_dump(mode="json")
    return result


def _show_written(r: dict[str, Any]) -> None:
    if "html" in r:
        sys.stdout.write(r["html"])
        return
    line = f"wrote {r['output']} ({r['bytes']:,} bytes in {r['seconds']:.2f} s)"
    if r.get("event_id"):
        line += f"; recorded as {r['event_id']}"
    out.print(line)
    out.print(f"content sha256 {r['sha256']}")
    if r["open_items"]:
        out.print(f"[yellow]{r['open_items']} item(s) to complete before signing[/]")


# --- reports ---------------------------------------------------------------------------------


def _report(
    kind: str,
    deployment: str,
    output: Path | None,
    font: Path | None,
    home: Path | None,
    as_json: bool,
) -> None:
    from facegate.reports.issue import issue_report
    from facegate.reports.render import check_target

    def act() -> dict[str, Any]:
        if output is not None:
            check_target(output, font=font)  # fail before anything is recorded
        with gate_for(home) as gate:
            require(gate.actor, "read", "issue a report")
            issued = issue_report(
                _core(gate),
                kind,
                deployment,
                operator_id=gate.actor.operator_id,
                by=gate.actor.principal_id,
            )
        extra = {"report": kind, "deployment": deployment, "event_id": issued.event_id}
        return _deliver(issued.report, output, font, as_json, extra)

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_written(r))


@report_app.command("pia")
def report_pia(
    deployment: DeploymentId,
    output: Output = None,
    font: Font = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """The deployment's PIA / DPIA (CN-FR-9, EU-GDPR-35), recorded in the ledger."""
    _report("pia", deployment, output, font, home, as_json)


@report_app.command("art30")
def report_art30(
    deployment: DeploymentId,
    output: Output = None,
    font: Font = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """The deployment's GDPR Art. 30 record of processing, recorded in the ledger."""
    _report("art30", deployment, output, font, home, as_json)


# --- filing ----------------------------------------------------------------------------------


def _show_filing(r: dict[str, Any]) -> None:
    out.print(
        f"{r['people']:,} people stored (filing threshold {r['threshold']:,}; {r['people_note']})"
    )
    for action in r["actions"]:
        out.print(f"  {action}")
    if r["filing_id"] is None:
        out.print("no filing required" if not r["required"] else "a filing is required")
        return
    out.print(f"filing [bold]{r['filing_id']}[/]: {r['status']}")
    if r["pending"]:
        late = " [red]OVERDUE[/]" if r["overdue"] else ""
        provisional = (
            " (provisional: holiday calendar lacks that year)" if r["due_provisional"] else ""
        )
        out.print(
            f"  owed: {r['pending']} by [bold]{r['due_on']}[/] "
            f"({r['working_days_left']} working days left){late}{provisional}"
        )
    if r["reference"]:
        out.print(f"  reference: {r['reference']}")


@filing_app.command("status")
def filing_status(home: Home = None, as_json: Json = False) -> None:
    """Count the people stored; open, amend or cancel the filing as needed; show it."""
    from facegate.supervision.filings import check_filing

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            require(gate.actor, "supervise", "check the filing")
            return check_filing(_core(gate), operator_id=gate.actor.operator_id).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_filing(r))


@filing_app.command("document")
def filing_document(
    output: Output = None,
    font: Font = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """The filing document CN-FR-15 asks for, drafted from the live system."""
    from facegate.reports.render import check_target
    from facegate.supervision.filings import filing_document as build

    def act() -> dict[str, Any]:
        if output is not None:
            check_target(output, font=font)
        with gate_for(home) as gate:
            require(gate.actor, "read", "read the filing document")
            operator = gate.actor.operator_id
            report = build(_core(gate), operator_id=operator)
        return _deliver(report, output, font, as_json, {"operator": operator})

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_written(r))


@filing_app.command("submitted")
def filing_submitted(
    reference: Annotated[str, typer.Option(help="the number the administration issued")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Record that what was owed (filing, amendment or cancellation) was submitted."""
    from facegate.supervision.filings import record_submission

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            require(gate.actor, "supervise", "record a filing's submission")
            return record_submission(
                _core(gate), reference=reference, operator_id=gate.actor.operator_id
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_filing(r))


# --- incidents -------------------------------------------------------------------------------


def _show_incident(r: dict[str, Any]) -> None:
    out.print(
        f"incident [bold]{r['id']}[/] ({r['status']}), discovered {r['discovered_at']}, "
        f"~{r['people_estimate']:,} people, deployments: {', '.join(r['deployments']) or '-'}"
    )
    for o in r["obligations"]:
        left = f", {o['hours_left']:.1f} h left" if o["hours_left"] is not None else ""
        out.print(
            f"  {o['rule_id']} notify {o['audience']} {o['when']}: [bold]{o['state']}[/]{left}"
        )
    if not r["obligations"]:
        out.print("  no notification rule is encoded for these deployments' packs")


@incident_app.command("open")
def incident_open(
    description: Annotated[str, typer.Option(help="what happened, which data, what was done")],
    people: Annotated[int, typer.Option(help="estimated number of people affected")],
    discovered_at: Annotated[
        str | None, typer.Option(help="when it became known (ISO 8601 with zone); default now")
    ] = None,
    deployment: Annotated[
        list[str] | None,
        typer.Option("--deployment", "-d", help="affected deployment (repeat); default all"),
    ] = None,
    high_risk: Annotated[
        bool, typer.Option("--high-risk", help="high risk to the people (GDPR Art 34)")
    ] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Record a breach and start its notification clocks (CN-PIPL-57, EU-GDPR-33)."""
    from facegate.supervision.incidents import open_incident

    def act() -> dict[str, Any]:
        found = _when(discovered_at, "--discovered-at")
        with gate_for(home) as gate:
            require(gate.actor, "supervise", "record an incident")
            core = _core(gate)
            return open_incident(
                core,
                discovered_at=found or core.clock(),
                description=description,
                people_estimate=people,
                deployments=deployment or (),
                high_risk=high_risk,
                operator_id=gate.actor.operator_id,
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_incident(r))


@incident_app.command("notify")
def incident_notify(
    incident: IncidentId,
    to: Annotated[str, typer.Option("--to", help="regulator or individuals")],
    reference: Annotated[str, typer.Option(help="the authority's case number, if any")] = "",
    delay_reason: Annotated[
        str, typer.Option(help="why the regulator is told after 72 hours (GDPR Art 33)")
    ] = "",
    at: Annotated[
        str | None, typer.Option(help="when notice was given (ISO 8601); default now")
    ] = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Record that the regulator or the individuals were notified."""
    from facegate.supervision.incidents import notify_incident

    def act() -> dict[str, Any]:
        if to not in ("regulator", "individuals"):
            raise e.InvalidInput(
                f"--to {to!r}: notify the 'regulator' or the 'individuals'",
            )
        when = _when(at, "--at")
        with gate_for(home) as gate:
            require(gate.actor, "supervise", "record an incident's notification")
            return notify_incident(
                _core(gate),
                incident,
                audience="regulator" if to == "regulator" else "individuals",
                reference=reference,
                delay_reason=delay_reason,
                at=when,
                operator_id=gate.actor.operator_id,
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_incident(r))


@incident_app.command("close")
def incident_close(
    incident: IncidentId,
    resolution: Annotated[str, typer.Option(help="how it was remedied")],
    harm_avoided: Annotated[
        bool,
        typer.Option(
            "--harm-avoided", help="the measures taken avoid harm, so people need no notice"
        ),
    ] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Close a remedied incident (refused while notice is still owed: exit 4)."""
    from facegate.supervision.incidents import close_incident

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            require(gate.actor, "supervise", "close an incident")
            return close_incident(
                _core(gate),
                incident,
                resolution=resolution,
                harm_avoided=harm_avoided,
                operator_id=gate.actor.operator_id,
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: _show_incident(r))


@incident_app.command("list")
def incident_list(home: Home = None, as_json: Json = False) -> None:
    """Every incident with its notification clocks as they stand now."""
    from facegate.supervision.incidents import list_incidents

    def act() -> list[dict[str, Any]]:
        with gate_for(home) as gate:
            require(gate.actor, "read", "list incidents")
            found = list_incidents(_core(gate), operator_id=gate.actor.operator_id)
            return [i.to_dict() for i in found]

    rows = run(as_json, act)

    def human() -> None:
        table = Table("id", "status", "discovered", "people", "obligations")
        for r in rows:
            table.add_row(
                r["id"],
                r["status"],
                r["discovered_at"],
                f"{r['people_estimate']:,}",
                "; ".join(
                    f"{o['rule_id']} {o['audience']}: {o['state']}" for o in r["obligations"]
                ),
            )
        out.print(table)

    emit(as_json, rows, human)
