"""The ``facegate`` command line. Every verb takes ``--home DIR`` and ``--json``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from facegate import __version__
from facegate.cli.bench import bench_app
from facegate.cli.campaign import campaign_app
from facegate.cli.common import (
    Home,
    Json,
    Key,
    emit,
    gate_for,
    out,
    run,
    settings_for,
    use_key,
)
from facegate.cli.custody import custody_app
from facegate.cli.deployments import deployment_app, pia_app
from facegate.cli.encrypted import encrypted_app
from facegate.cli.evidence import evidence_app, witness_app
from facegate.cli.keys import keys_app
from facegate.cli.ledger import ledger_app
from facegate.cli.people import consent_app, erase, hold_app, purpose_end
from facegate.cli.policy import policy_app
from facegate.cli.principals import apikey_app, operator_app, principal_app, selfcheck
from facegate.cli.recognition import register_commands as register_recognition
from facegate.cli.regulator import register_commands as add_regulator_commands
from facegate.cli.reports import filing_app, incident_app, report_app
from facegate.cli.rights import requests_app, retention_app, review_app
from facegate.cli.transfers import register_commands as add_transfer_commands

app = typer.Typer(
    name="facegate",
    help="Face recognition that is lawful by construction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(deployment_app, name="deployment")
app.add_typer(pia_app, name="pia")
app.add_typer(hold_app, name="hold")
app.add_typer(operator_app, name="operator")
app.add_typer(principal_app, name="principal")
app.command("erase")(erase)
app.command("purpose-end")(purpose_end)
app.command("selfcheck")(selfcheck)
app.add_typer(consent_app, name="consent")
app.add_typer(ledger_app, name="ledger")
app.add_typer(evidence_app, name="evidence")
app.add_typer(witness_app, name="witness")
app.add_typer(apikey_app, name="apikey")
app.add_typer(report_app, name="report")
app.add_typer(filing_app, name="filing")
app.add_typer(incident_app, name="incident")
app.add_typer(retention_app, name="retention")
app.add_typer(review_app, name="review")
app.add_typer(requests_app, name="requests")
app.add_typer(policy_app, name="policy")
app.add_typer(bench_app, name="bench")
app.add_typer(keys_app, name="keys")
app.add_typer(custody_app, name="custody")
app.add_typer(encrypted_app, name="encrypted")
app.add_typer(campaign_app, name="campaign")
add_regulator_commands(app)  # regulator, link, orders
add_transfer_commands(app)  # recipient, share, export, trace, alert


# --- set-up and service ----------------------------------------------------------------------


def _version(show: bool) -> None:
    if show:
        out.print(f"facegate {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    key: Key = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Face recognition that is lawful by construction. Every verb acts as the principal whose
    API key is given (--key, or $FACEGATE_KEY), else as the home's owner (role admin)."""
    use_key(key)


@app.command()
def init(
    home: Home = None,
    as_json: Json = False,
    demo: Annotated[bool, typer.Option("--demo", help="also load the demo data")] = False,
) -> None:
    """Create the home directory: database, key store, master key, ledger."""

    def act() -> dict[str, Any]:
        with gate_for(home, create=True) as gate:
            result: dict[str, Any] = {"home": str(gate.settings.home)}
            if demo:
                from facegate.cli.demo import seed_demo

                result["demo"] = seed_demo(gate, console=None if as_json else out)
            return {**result, **gate.counts()}  # after the demo data, which they count

    result = run(as_json, act)
    emit(as_json, result, lambda: out.print(f"facegate home ready at [bold]{result['home']}[/]"))


@app.command()
def serve(
    home: Home = None,
    host: Annotated[
        str | None, typer.Option(help="address to listen on [env FACEGATE_API__HOST, 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="port [env FACEGATE_API__PORT, 8088]"),
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve HTTPS (with --tls-key)")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="load demo data first if empty")] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="worker processes, each with its own Gate and galleries")
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from facegate import logs
    from facegate.api.app import create_app
    from facegate.api.serving import uvicorn_options
    from facegate.gate import Gate

    settings = run(False, lambda: settings_for(home))
    options = run(
        False,
        lambda: uvicorn_options(settings, host=host, port=port, tls_cert=tls_cert, tls_key=tls_key),
    )
    logs.configure(settings.api.log_format)
    gate = run(False, lambda: Gate.open(settings=settings, create=demo))
    key = None
    if demo:
        from facegate.cli.demo import seed_demo

        seeded = run(False, lambda: seed_demo(gate, console=out))
        key = seeded.get("api_key")
    loaded = run(False, gate.warm)
    out.print(f"{loaded} protected templates loaded into the 1:N index")
    scheme = "https" if "ssl_certfile" in options else "http"
    out.print(f"facegate serving [bold]{scheme}://{options['host']}:{options['port']}[/]")
    out.print(f"landing page: [bold]{scheme}://{options['host']}:{options['port']}/[/]")
    if key:
        login = seeded["login"]
        base = f"{scheme}://{options['host']}:{options['port']}"
        out.print(f"demo operator API key (shown once): [bold]{key}[/]")
        out.print(
            f"first console login at {base}/console: operator "
            f"[bold]{login['operator']}[/], name [bold]{login['name']}[/], "
            f"password [bold]{login['password']}[/] (shown once; change it after signing in)"
        )
    if workers > 1:  # each worker opens its own Gate; the change feed keeps them one
        from facegate.sync.serve import run_workers

        run_workers(gate, settings, options, workers)
        return
    uvicorn.run(create_app(gate), **options)


@app.command()
def demo(home: Home = None, as_json: Json = False) -> None:
    """Run the whole lawful lifecycle on real photos, narrating each step."""
    from facegate.cli.demo import run_demo

    result = run(as_json, lambda: run_demo(settings_for(home), console=None if as_json else out))
    emit(as_json, result, lambda: None)


# --- recognition: enroll, verify, identify (one photo, a folder, a CSV, stdin), detect ... ---
register_recognition(app)


def main() -> None:
    app()
