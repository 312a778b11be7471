"""``facegate regulator``: the regulator node (its own home, database, keys and service).

``--home`` here is the regulator's home, never an operator's. Operators' side of the link is
``facegate link`` and ``facegate orders`` (:mod:`facegate.cli.link`); :func:`register_commands`
adds all three to the main command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate import errors as e
from facegate.cli.common import Json, emit, out, run

if TYPE_CHECKING:
    from facegate.regulator.node import Regulator

regulator_app = typer.Typer(
    help="The regulator node: registry, witness, mirror, monitor, orders, risk view.",
    no_args_is_help=True,
)

RegHome = Annotated[
    Path | None,
    typer.Option(
        "--home", help="the regulator's home [env FACEGATE_REGULATOR_HOME]", show_default=False
    ),
]
Origin = Annotated[str, typer.Option("--origin", help="the log's origin line")]


def register_commands(app: typer.Typer) -> None:
    """Add ``regulator``, ``link`` and ``orders`` to the main command line."""
    from facegate.cli import regulator_login  # noqa: F401  (its command joins regulator_app)
    from facegate.cli.link import link_app, orders_app

    app.add_typer(regulator_app, name="regulator")
    app.add_typer(link_app, name="link")
    app.add_typer(orders_app, name="orders")


def _home(home: Path | None) -> Path:
    found = home or (
        Path(os.environ["FACEGATE_REGULATOR_HOME"])
        if os.environ.get("FACEGATE_REGULATOR_HOME")
        else None
    )
    if found is None:
        raise e.ConfigError("say which regulator: --home DIR (or FACEGATE_REGULATOR_HOME)")
    return found.expanduser()


@contextmanager
def _open(home: Path | None) -> Iterator[Regulator]:
    from facegate.regulator.node import Regulator

    with Regulator.open(_home(home)) as reg:
        yield reg


@regulator_app.command("init")
def init(
    name: Annotated[
        str, typer.Option("--name", help="the witness's name, e.g. regulator.example/witness")
    ] = "regulator",
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="PostgreSQL URL [default: SQLite in the home]"),
    ] = None,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """Create the regulator's home: master key, wrapped signing keys, database, admin token."""
    from facegate.regulator.home import init_home

    r = run(as_json, lambda: init_home(_home(home), name=name, database_url=database_url))
    d = {
        "home": str(r.home),
        "witness_key": r.witness_key,
        "authority_key": r.authority_key,
        "admin_token": r.admin_token,
    }
    emit(
        as_json,
        d,
        lambda: out.print(
            f"regulator ready in {d['home']}\nwitness key: {d['witness_key']}\n"
            f"authority key (orders, receipts): {d['authority_key']}\n"
            f"admin token (shown once; keep it): {d['admin_token']}",
            highlight=False,
        ),
    )


@regulator_app.command("serve")
def serve(
    home: RegHome = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port")] = 8090,
    sweep_seconds: Annotated[
        float, typer.Option("--sweep-seconds", help="how often the monitor's clock rules run")
    ] = 60.0,
) -> None:
    """Serve the witness (POST /add-checkpoint) and the regulator's routes."""
    import uvicorn

    from facegate.regulator.app import create_regulator_app
    from facegate.regulator.node import Regulator

    os.umask(0o077)
    reg = run(False, lambda: Regulator.open(_home(home)))
    out.print(
        f"facegate regulator serving [bold]http://{host}:{port}[/]\nwitness key: {reg.witness_key}",
        highlight=False,
    )
    try:
        uvicorn.run(
            create_regulator_app(reg, sweep_seconds=sweep_seconds),
            host=host,
            port=port,
            log_level="info",
        )
    finally:
        reg.close()


@regulator_app.command("key")
def key(
    home: RegHome = None,
    authority: Annotated[
        bool,
        typer.Option("--authority", help="print the key that signs orders and receipts instead"),
    ] = False,
    as_json: Json = False,
) -> None:
    """Print the witness's verifier key (c2sp.org/signed-note vkey, cosignature/v1)."""

    def act() -> dict[str, str]:
        with _open(home) as reg:
            return {"witness_key": reg.witness_key, "authority_key": reg.authority_key}

    r = run(as_json, act)
    emit(as_json, r, lambda: print(r["authority_key" if authority else "witness_key"]))


@regulator_app.command("approve")
def approve(
    origin: Origin,
    vkey: Annotated[
        str | None,
        typer.Option("--vkey", help="the log's verifier key (registers the log directly)"),
    ] = None,
    push_interval: Annotated[
        int | None, typer.Option("--push-interval", help="agreed seconds between checkpoints")
    ] = None,
    filing_threshold: Annotated[
        int | None,
        typer.Option("--filing-threshold", help="people at which CN-FR-15 asks for a filing"),
    ] = None,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """Approve a pending registration, or register and approve a log by its key."""

    def act() -> dict[str, Any]:
        with _open(home) as reg:
            return reg.approve(
                origin, vkey=vkey, push_interval_s=push_interval, filing_threshold=filing_threshold
            ).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['origin']}: {r['state']}", highlight=False))


@regulator_app.command("state")
def state(
    origin: Origin,
    to: Annotated[str, typer.Option("--set", help="active, suspended or retired")],
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """Suspend, reactivate or retire a log."""

    def act() -> dict[str, Any]:
        with _open(home) as reg:
            return reg.set_state(origin, to).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['origin']}: {r['state']}", highlight=False))


@regulator_app.command("logs")
def logs(home: RegHome = None, as_json: Json = False) -> None:
    """The registry: every log, its state and the size last cosigned."""

    def act() -> list[dict[str, Any]]:
        with _open(home) as reg:
            return [log.to_dict() for log in reg.logs()]

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: print(
            "\n".join(
                f"{r['origin']}\t{r['state']}\t{r['size']}\t{r['cosigned_at'] or '-'}" for r in rows
            )
        ),
    )


@regulator_app.command("order")
def order(
    origin: Origin,
    kind: Annotated[str, typer.Option("--kind", help="stop, resume or rectify")],
    reason: Annotated[str, typer.Option("--reason", help="why (sent to the operator)")],
    deployment: Annotated[str | None, typer.Option("--deployment", help="deployment id")] = None,
    due: Annotated[datetime | None, typer.Option("--due", help="rectify by (ISO 8601)")] = None,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """Issue a signed order; the operator's node fetches, ledgers and enforces it."""
    from datetime import UTC

    def act() -> dict[str, Any]:
        with _open(home) as reg:
            when = due.replace(tzinfo=UTC) if due and due.tzinfo is None else due
            return reg.issue_order(
                origin, kind=kind, reason=reason, deployment_id=deployment, due_at=when
            )

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(f"order {r['id']} (#{r['seq']}, {r['kind']}) issued", highlight=False),
    )


@regulator_app.command("findings")
def findings(
    origin: Origin,
    open_only: Annotated[bool, typer.Option("--open", help="only unresolved findings")] = False,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """What the witness and the monitor found about one log."""

    def act() -> list[dict[str, Any]]:
        with _open(home) as reg:
            return [f.to_dict() for f in reg.findings(origin, open_only=open_only)]

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: print(
            "\n".join(f"{r['severity']}\t{r['rule']}\t{r['count']}\t{r['message']}" for r in rows)
        ),
    )


@regulator_app.command("risk")
def risk(
    origin: Annotated[str | None, typer.Option("--origin", help="one log only")] = None,
    home: RegHome = None,
    as_json: Json = False,
) -> None:
    """The risk view: findings, overdue obligations, witness freshness, counts."""

    def act() -> list[dict[str, Any]]:
        with _open(home) as reg:
            reg.sweep()
            return reg.risk(origin)

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: print(
            "\n".join(
                f"{r['level']}\t{r['score']}\t{r['origin']}\t"
                f"{r['findings']['open']} open finding(s)\twitness size {r['witness']['size']}"
                for r in rows
            )
        ),
    )
