"""``facegate operator``, ``principal``, ``apikey`` and ``selfcheck``: who acts, and how safely."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from facegate.cli.common import Home, Json, Key, emit, gate_for, out, run

operator_app = typer.Typer(
    help="The operator: who notices and receipts name.", no_args_is_help=True
)
principal_app = typer.Typer(
    help="Principals: the people acting, each with a role.", no_args_is_help=True
)
apikey_app = typer.Typer(help="API keys of principals.", no_args_is_help=True)
Opt = typer.Option


@operator_app.command("show")
def operator_show(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """What notices and receipts say about the operator."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.operator().to_dict()

    r = run(as_json, act)

    def human() -> None:
        for k, v in r.items():
            if v:
                out.print(f"{k}: {v}")

    emit(as_json, r, human)


@operator_app.command("set")
def operator_set(
    name: Annotated[str | None, Opt(help="the processor's name")] = None,
    contact: Annotated[str | None, Opt(help="how people reach it (phone, desk)")] = None,
    dpo: Annotated[
        str | None, Opt(help="the data protection officer and how to reach them")
    ] = None,
    email: Annotated[str | None, Opt(help="e-mail for requests")] = None,
    address: Annotated[str | None, Opt(help="postal address")] = None,
    url: Annotated[str | None, Opt(help="public web address of this installation")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Set the operator's identity, contact and DPO (admin); ledgered by hash."""

    def act() -> dict[str, Any]:
        given = {
            "name": name,
            "contact": contact,
            "dpo": dpo,
            "email": email,
            "address": address,
            "url": url,
        }
        with gate_for(home, key) as gate:
            return gate.set_operator(**{k: v for k, v in given.items() if v is not None}).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"operator {r['id']} updated ({r['event_id']})"))


@operator_app.command("create")
def operator_create(
    name: Annotated[str, Opt(help="the new operator's name")],
    contact: Annotated[str, Opt(help="how people reach it")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Another operator on this installation (the home's owner only); prints its admin key."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.create_operator(name, contact=contact).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"operator {r['principal']['operator_id']} created; its admin's key (shown once): "
            f"[bold]{r['api_key']['key']}[/]"
        ),
    )


@principal_app.command("create")
def principal_create(
    name: Annotated[str, Opt(help="the person's name (unique, whatever the case)")],
    role: Annotated[str, Opt(help="admin, operator, dpo, reviewer or auditor")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Create a principal (admin only); prints its API key once."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.create_principal(name, role).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"principal {r['principal']['id']} ({r['principal']['role']}); key, shown once: "
            f"[bold]{r['api_key']['key']}[/]"
        ),
    )


@principal_app.command("list")
def principal_list(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [p.to_dict() for p in gate.list_principals()]

    rows = run(as_json, act)

    def human() -> None:
        table = Table("id", "name", "role", "created", "revoked")
        for p in rows:
            table.add_row(
                p["id"], p["name"], p["role"], p["created_at"][:16], (p["revoked_at"] or "")[:16]
            )
        out.print(table, crop=False, overflow="ignore")

    emit(as_json, rows, human)


@principal_app.command("revoke")
def principal_revoke(
    principal: Annotated[str, typer.Argument(help="principal id")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Revoke a principal and every key of theirs (admin only)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.revoke_principal(principal).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"principal {r['id']} revoked"))


@apikey_app.command("create")
def apikey_create(
    principal: Annotated[str | None, Opt(help="for this principal [default: yourself]")] = None,
    label: Annotated[str, Opt(help="what the key is for")] = "",
    expires_days: Annotated[
        int | None,
        Opt(help="days it lives [365; issued with --key for yourself: ends by that key's end]"),
    ] = None,
    deployment: Annotated[
        str | None, Opt("--deployment", "-d", help="scope it to one deployment")
    ] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Issue an API key (shown once; only its hash is kept)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.issue_api_key(
                principal_id=principal,
                label=label,
                expires_days=expires_days,
                deployment_id=deployment,
            ).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"API key {r['id']} for {r['principal_id']} (expires {r['expires_at'][:10]}): "
            f"[bold]{r['key']}[/]"
        ),
    )


@apikey_app.command("list")
def apikey_list(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """Your keys (an admin sees every key), with expiry and last use."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [k.to_dict() for k in gate.list_api_keys()]

    rows = run(as_json, act)

    def human() -> None:
        table = Table("id", "principal", "label", "expires", "last used", "revoked")
        for k in rows:
            table.add_row(
                k["id"],
                k["principal_id"],
                k["label"],
                (k["expires_at"] or "")[:10],
                (k["last_used_at"] or "")[:16],
                (k["revoked_at"] or "")[:16],
            )
        out.print(table, crop=False, overflow="ignore")

    emit(as_json, rows, human)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="key id")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.revoke_api_key(key_id).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"key {r['id']} revoked"))


def selfcheck(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """Measure every security control now (CN-FR-14); a failure stops processing."""
    import typer as _typer

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.self_check().to_dict()

    r = run(as_json, act)

    def human() -> None:
        for control, ok in r["controls"].items():
            mark = {True: "ok", False: "MISSING", None: "attest"}[ok]
            out.print(f"{control}: {mark} — {r['measurements'].get(control, '')}")
        for p in r["problems"]:
            out.print(f"[bold]refused:[/] {p}")

    emit(as_json, r, human)
    if not r["ok"]:
        raise _typer.Exit(4)
