"""``facegate retention``, ``facegate review`` and ``facegate requests``: the duties that
come after enrollment."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from facegate.cli.common import Home, Json, emit, gate_for, out, run

retention_app = typer.Typer(help="Retention: nothing is kept past its time.", no_args_is_help=True)
review_app = typer.Typer(
    help="Human review of remote-identification matches.", no_args_is_help=True
)
requests_app = typer.Typer(help="People's requests and complaints.", no_args_is_help=True)


@retention_app.command("sweep")
def retention_sweep(home: Home = None, as_json: Json = False) -> None:
    """Erase expired templates and lapsed consents now, with a receipt for each person."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.sweep_retention().to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"{r['templates_expired']} expired template(s) deleted, {r['subjects_erased']} "
            f"person(s) with lapsed consent erased"
        ),
    )


@review_app.command("confirm")
def review_confirm(
    identification: Annotated[str, typer.Argument(help="identification id")],
    reviewer: Annotated[str, typer.Option(help="the reviewer's staff id")],
    reject: Annotated[bool, typer.Option("--reject", help="reject instead of confirm")] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Confirm (or --reject) a pending match; two distinct reviewers name the person."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.review_identification(
                identification, reviewer=reviewer, confirm=not reject
            ).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"{r['identification_id']}: {r['status']}"
            + (f" — {r['subject_ref']}" if r["subject_ref"] else "")
        ),
    )


@requests_app.command("list")
def requests_list(home: Home = None, as_json: Json = False) -> None:
    """Open requests and complaints, soonest deadline first."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home) as gate:
            return [r.to_dict() for r in gate.open_requests()]

    rows = run(as_json, act)

    def human() -> None:
        table = Table("request", "kind", "received", "due")
        for r in rows:
            table.add_row(r["request_id"], r["kind"], r["received_at"][:16], r["due_at"][:16])
        out.print(table)

    emit(as_json, rows, human)


@requests_app.command("answer")
def requests_answer(
    request: Annotated[str, typer.Argument(help="request id")],
    reason: Annotated[str, typer.Option(help="the answer, or the reasons for refusing")],
    refuse: Annotated[bool, typer.Option("--refuse", help="refuse, with reasons")] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Answer or refuse (with reasons) a person's request."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.answer_request(request, reason=reason, refuse=refuse).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['request_id']}: {r['status']}"))
