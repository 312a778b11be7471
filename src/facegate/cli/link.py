"""``facegate link`` and ``facegate orders``: the operator's side of the regulator link.

``--home`` is the operator's installation. ``facegate serve`` pushes checkpoints and fetches
orders by itself once a link is registered; these commands do one round by hand, deliver
filings and incident notifications, and show the orders in force.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.common import Home, Json, emit, gate_for, out, run
from facegate.errors import Forbidden
from facegate.flows.operators import OWNER

if TYPE_CHECKING:
    from facegate.gate import Gate

link_app = typer.Typer(
    help="This installation's link to its regulator: registration, witness, deliveries.",
    no_args_is_help=True,
)
orders_app = typer.Typer(help="Orders from the regulator: fetch, list.", no_args_is_help=True)

Url = Annotated[str | None, typer.Option("--url", help="the regulator (default: the only one)")]


@link_app.command("register")
def register(
    url: Annotated[str, typer.Option("--url", help="the regulator's URL")],
    name: Annotated[str | None, typer.Option("--name", help="operator name")] = None,
    contact: Annotated[str, typer.Option("--contact", help="who the regulator contacts")] = "",
    operator_url: Annotated[
        str,
        typer.Option(
            "--operator-url", help="where this service answers (for the regulator's records)"
        ),
    ] = "",
    witness_key: Annotated[
        str | None,
        typer.Option(
            "--witness-key",
            help="the witness key, obtained independently (else trusted on first use)",
        ),
    ] = None,
    authority_key: Annotated[
        str | None,
        typer.Option("--authority-key", help="the key that signs orders, obtained independently"),
    ] = None,
    push_interval: Annotated[
        int, typer.Option("--push-interval", help="seconds agreed between checkpoints")
    ] = 300,
    poll_seconds: Annotated[
        float, typer.Option("--poll-seconds", help="how often 'facegate serve' checks for news")
    ] = 2.0,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Send a registration signed with the ledger key; the regulator then approves it."""
    from facegate.regulator.link import register_link

    def act() -> dict[str, Any]:
        with _owner(home) as gate:
            return register_link(
                gate.core,
                url,
                operator_name=name or getpass.getuser(),
                contact=contact or "-",
                operator_url=operator_url or "-",
                witness_key=witness_key,
                authority_key=authority_key,
                push_interval_s=push_interval,
                poll_s=poll_seconds,
            )

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"registered with {r['url']} ({r['state']})\nwitness key pinned: {r['witness_key']}",
            highlight=False,
        ),
    )


@link_app.command("status")
def status(home: Home = None, as_json: Json = False) -> None:
    """Each link: state, size the witness cosigned, last push, last error."""
    from sqlalchemy import select

    from facegate.storage import tables as t

    def act() -> list[dict[str, Any]]:
        with _owner(home) as gate, gate.db.read() as s:
            return [
                {
                    "url": x.url,
                    "state": x.state,
                    "witness_size": x.witness_size,
                    "last_push_at": x.last_push_at.isoformat() if x.last_push_at else None,
                    "orders_seq": x.orders_seq,
                    "last_error": x.last_error,
                    "witness_key": x.witness_key,
                }
                for x in s.scalars(select(t.RegulatorLink))
            ]

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: print(
            "\n".join(
                f"{r['url']}\t{r['state']}\twitness size {r['witness_size']}\t{r['last_error']}"
                for r in rows
            )
        ),
    )


@link_app.command("push")
def push(
    force: Annotated[bool, typer.Option("--force", help="push even if nothing is new")] = True,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """One round now: push the latest checkpoint to each witness and fetch orders."""
    from facegate.regulator.link_service import run_once

    def act() -> dict[str, Any]:
        with _owner(home) as gate:
            done = run_once(gate.core, force=force)
        return {
            url: (
                r
                if isinstance(r, str)
                else {
                    "outcome": r.outcome,
                    "size": r.size,
                    "witness_size": r.witness_size,
                    "message": r.message,
                    "entries_sent": r.entries_sent,
                }
            )
            for url, r in done.items()
        }

    r = run(as_json, act)
    emit(as_json, r, lambda: print("\n".join(f"{url}\t{v}" for url, v in r.items())))


@link_app.command("deliver-filing")
def deliver_filing(
    url: Url = None,
    threshold: Annotated[int, typer.Option(help="people at which a filing is due")] = 100_000,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Deliver the CN-FR-15 filing the operator owes; keep the signed receipt."""
    from facegate.regulator.link_deliver import deliver_filing as deliver

    def act() -> dict[str, Any]:
        with _owner(home) as gate:
            return deliver(gate.core, url=url, threshold=threshold)

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(f"filing delivered; receipt {r['receipt_id']}", highlight=False),
    )


@link_app.command("notify-incident")
def notify_incident(
    incident: Annotated[str, typer.Option("--incident", help="incident id")],
    url: Url = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Notify the regulator of an incident (GDPR Art 33, PIPL Art 57); keep the receipt."""
    from facegate.regulator.link_deliver import deliver_incident

    def act() -> dict[str, Any]:
        with _owner(home) as gate:
            return deliver_incident(gate.core, incident, url=url)

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(f"regulator notified; receipt {r['receipt_id']}", highlight=False),
    )


@orders_app.command("fetch")
def fetch(url: Url = None, home: Home = None, as_json: Json = False) -> None:
    """Fetch new orders: verify the regulator's signature, ledger, enforce, acknowledge."""
    from facegate.regulator.link_orders import fetch_orders

    def act() -> list[dict[str, Any]]:
        with _owner(home) as gate:
            return fetch_orders(gate.core, url=url)

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: out.print(
            "\n".join(
                f"order {o['id']} (#{o['seq']}): {o['kind']} {o['deployment'] or 'all'}"
                for o in rows
            )
            or "no new orders",
            highlight=False,
        ),
    )


@orders_app.command("list")
def list_orders(
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="deployment id")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """The orders in force on a deployment now."""
    from facegate.regulator.link import orders_in_force

    def act() -> list[dict[str, Any]]:
        with gate_for(home) as gate:
            gate.get_deployment(deployment)  # the key's own operator's deployments only
            with gate.db.read() as s:
                return [o.to_dict() for o in orders_in_force(s, deployment)]

    rows = run(as_json, act)
    emit(
        as_json,
        rows,
        lambda: out.print(
            "\n".join(f"{o['kind']}\t{o['id']}\t{o['reason']}" for o in rows) or "none in force",
            highlight=False,
        ),
    )


@contextmanager
def _owner(home: Path | None) -> Iterator[Gate]:
    """The link to the regulator belongs to the installation: only its owner (who holds the
    master key) registers it or speaks through it, never a principal's key."""
    with gate_for(home) as gate:
        if gate.actor.principal_id != OWNER:
            raise Forbidden(
                "the regulator link is the installation's: only its owner manages it",
                advice="Run 'facegate link ...' on the host, without --key.",
            )
        yield gate
