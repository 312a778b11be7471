"""``facegate retention``, ``facegate review`` and ``facegate requests``: the duties that
come after enrollment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from facegate.cli.common import DeploymentId, Home, Json, Key, emit, gate_for, out, run

retention_app = typer.Typer(help="Retention: nothing is kept past its time.", no_args_is_help=True)
review_app = typer.Typer(
    help="Human review of remote-identification matches.", no_args_is_help=True
)
requests_app = typer.Typer(help="People's requests and complaints.", no_args_is_help=True)


@retention_app.command("sweep")
def retention_sweep(home: Home = None, key: Key = None, as_json: Json = False) -> None:
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
    reject: Annotated[bool, typer.Option("--reject", help="reject instead of confirm")] = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Confirm (or --reject) a pending match as the reviewer whose key is given; two
    different reviewers name the person (EU-AI-14)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.review_identification(identification, confirm=not reject).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"{r['identification_id']}: {r['status']}"
            + (f" — {r['subject_ref']}" if r["subject_ref"] else "")
        ),
    )


@review_app.command("list")
def review_list(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """Matches awaiting review (nobody is named until two reviewers confirm)."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return gate.pending_reviews()

    rows = run(as_json, act)

    def human() -> None:
        table = Table("identification", "deployment", "score", "started", "reviewers")
        for r in rows:
            table.add_row(
                r["identification_id"],
                r["deployment_id"],
                f"{r['score']:.4f}",
                r["started_at"][:16],
                ", ".join(r["reviewers"]),
            )
        out.print(table, crop=False, overflow="ignore")

    emit(as_json, rows, human)


@review_app.command("purge")
def review_purge(
    deployment: DeploymentId,
    before: Annotated[datetime, typer.Option(help="delete logs of uses started before this")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Delete remote-identification logs once kept six months (EU-AI-19)."""

    def act() -> dict[str, Any]:
        when = before.replace(tzinfo=UTC) if before.tzinfo is None else before
        with gate_for(home, key) as gate:
            return {"deleted": gate.purge_identification_logs(deployment, before=when)}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['deleted']} log(s) deleted"))


@requests_app.command("list")
def requests_list(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """Open requests and complaints, soonest deadline first."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return gate.open_requests()

    rows = run(as_json, act)

    def human() -> None:
        table = Table("request", "kind", "received", "due", "text")
        for r in rows:
            table.add_row(
                r["request_id"], r["kind"], r["received_at"][:16], r["due_at"][:16], r["text"] or ""
            )
        out.print(table, crop=False, overflow="ignore")

    emit(as_json, rows, human)


@requests_app.command("answer")
def requests_answer(
    request: Annotated[str, typer.Argument(help="request id")],
    reason: Annotated[str, typer.Option(help="the answer, or the reasons for refusing")],
    refuse: Annotated[bool, typer.Option("--refuse", help="refuse, with reasons")] = False,
    exemption: Annotated[
        str, typer.Option(help="refusing an erasure: the legal ground (legal_claims, ...)")
    ] = "",
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Answer or refuse (with reasons) a person's request."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.answer_request(
                request, reason=reason, refuse=refuse, exemption=exemption
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['request_id']}: {r['status']}"))
