"""The ``facegate`` command line. Every verb takes ``--home DIR`` and ``--json``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from facegate.cli.bench import bench_app
from facegate.cli.common import (
    DeploymentId,
    Home,
    ImagePath,
    Json,
    SubjectRef,
    emit,
    gate_for,
    out,
    read_image,
    run,
    settings_for,
)
from facegate.cli.evidence import evidence_app, witness_app
from facegate.cli.keys import keys_app
from facegate.cli.ledger import ledger_app
from facegate.cli.policy import policy_app
from facegate.cli.regulator import register_commands as add_regulator_commands
from facegate.cli.reports import filing_app, incident_app, report_app
from facegate.cli.rights import requests_app, retention_app, review_app

app = typer.Typer(
    name="facegate",
    help="Face recognition that is lawful by construction.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
deployment_app = typer.Typer(help="Register and inspect deployments.", no_args_is_help=True)
consent_app = typer.Typer(help="Record and withdraw consent.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the HTTP API.", no_args_is_help=True)
app.add_typer(deployment_app, name="deployment")
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
app.add_typer(__import__("facegate.cli.custody").cli.custody.custody_app, name="custody")
add_regulator_commands(app)  # regulator, link, orders


# --- set-up and service ----------------------------------------------------------------------


@app.command()
def init(
    home: Home = None,
    as_json: Json = False,
    demo: Annotated[bool, typer.Option("--demo", help="also load the demo data")] = False,
) -> None:
    """Create the home directory: database, key store, master key, ledger."""

    def act() -> dict[str, Any]:
        with gate_for(home, create=True) as gate:
            result: dict[str, Any] = {"home": str(gate.settings.home), **gate.counts()}
            if demo:
                from facegate.cli.demo import seed_demo

                result["demo"] = seed_demo(gate, console=None if as_json else out)
            return result

    result = run(as_json, act)
    emit(as_json, result, lambda: out.print(f"facegate home ready at [bold]{result['home']}[/]"))


@app.command()
def serve(
    home: Home = None,
    host: Annotated[
        str | None, typer.Option(help="address to listen on [env FACEGATE_API__HOST, 127.0.0.1]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port [env FACEGATE_API__PORT, 8088]")] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve HTTPS (with --tls-key)")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="load demo data first if empty")] = False,
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
        out.print(f"demo operator API key: [bold]{key}[/]")
    uvicorn.run(create_app(gate), **options)


@app.command()
def demo(home: Home = None, as_json: Json = False) -> None:
    """Run the whole lawful lifecycle on real photos, narrating each step."""
    from facegate.cli.demo import run_demo

    result = run(as_json, lambda: run_demo(settings_for(home), console=None if as_json else out))
    emit(as_json, result, lambda: None)


# --- deployments -----------------------------------------------------------------------------


@deployment_app.command("create")
def deployment_create(
    name: Annotated[str, typer.Option(help="a name people will recognise")],
    purpose: Annotated[str, typer.Option(help="what face recognition is for")],
    location: Annotated[str, typer.Option(help="location type, e.g. residential_compound")],
    alternative: Annotated[str, typer.Option(help="the non-face way offered, e.g. key card")],
    jurisdiction: Annotated[
        str, typer.Option(help="policy packs, e.g. cn, eu, us-il, cn+ind-2019")
    ] = "cn",
    threshold: Annotated[float | None, typer.Option(help="match threshold (0-1)")] = None,
    necessity: Annotated[str | None, typer.Option(help="why it is necessary")] = None,
    retention_days: Annotated[
        int | None,
        typer.Option(help="days a template is kept [default: the longest the packs allow]"),
    ] = None,
    signage: Annotated[bool, typer.Option(help="prominent signs are posted")] = False,
    capability: Annotated[
        list[str] | None,
        typer.Option(
            help="what it does: verify, identify, remote_identification, ... (repeatable)"
        ),
    ] = None,
    scope: Annotated[str, typer.Option(help="application or research")] = "application",
    egress: Annotated[bool, typer.Option(help="face data leaves the device")] = False,
    purpose_ends: Annotated[
        datetime | None,
        typer.Option(help="when the purpose ends (Texas: delete within a year after)"),
    ] = None,
    risk_team: Annotated[str, typer.Option(help="risk team (IND-2019)")] = "",
    accountable: Annotated[str, typer.Option(help="accountable person (IND-2019)")] = "",
    fairness_tested: Annotated[bool, typer.Option(help="bias-tested (IND-2019)")] = False,
    opt_out: Annotated[bool, typer.Option(help="people may opt out (US-WA)")] = False,
    confirmed_by: Annotated[
        str | None,
        typer.Option(
            help="who confirms the drafted impact assessment [default: you, at this terminal]"
        ),
    ] = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Register a deployment; refused, with the rule cited, if the law forbids it."""
    from facegate.policy.facts import Declarations

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return dict(
                gate.create_deployment(
                    name=name,
                    purpose=purpose,
                    location=location,
                    alternative=alternative,
                    jurisdiction=jurisdiction,
                    threshold=threshold,
                    necessity=necessity,
                    retention_days=retention_days,
                    signage=signage,
                    capabilities=capability,
                    scope=scope,
                    egress=egress,
                    purpose_ends_at=purpose_ends.replace(tzinfo=UTC)
                    if purpose_ends and purpose_ends.tzinfo is None
                    else purpose_ends,
                    declarations=Declarations(
                        risk_team=risk_team,
                        accountable=accountable,
                        fairness_tested=fairness_tested,
                        opt_out=opt_out,
                    ),
                    confirmed_by=confirmed_by or f"{getpass.getuser()} (command line)",
                ).to_dict()
            )

    d = run(as_json, act)

    def human() -> None:
        out.print(
            f"deployment [bold]{d['id']}[/] created (notice v{d['notice_version']}, "
            f"threshold {d['threshold']})"
        )
        for note in d["notes"]:
            out.print(f"  note: {note}")

    emit(as_json, d, human)


@deployment_app.command("list")
def deployment_list(home: Home = None, as_json: Json = False) -> None:
    """List deployments."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home) as gate:
            return [d.to_dict() for d in gate.list_deployments()]

    rows = run(as_json, act)

    def human() -> None:
        # ids are what people copy into the next command: never cut or wrapped
        table = Table(Column("id", no_wrap=True, overflow="ignore"), "name", "location",
                      "jurisdiction", "threshold")
        for d in rows:
            table.add_row(
                d["id"], d["name"], d["location_type"], d["jurisdiction"], str(d["threshold"])
            )
        out.print(table)

    emit(as_json, rows, human)


@deployment_app.command("notice")
def deployment_notice(
    deployment: DeploymentId,
    language: Annotated[str, typer.Option(help="en or zh-CN")] = "en",
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Show the current notice people must be shown before consenting."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.notice(deployment, language=language).to_dict()

    n = run(as_json, act)

    def human() -> None:
        out.print(f"[bold]Notice v{n['version']}[/] (sha256 {n['sha256'][:16]}…)")
        for k, v in n["body"].items():
            out.print(f"[bold]{k}[/]: {v}")

    emit(as_json, n, human)


# --- consent ---------------------------------------------------------------------------------


@consent_app.command("give")
def consent_give(
    deployment: DeploymentId,
    subject: SubjectRef,
    notice_version: Annotated[int | None, typer.Option(help="notice version shown")] = None,
    method: Annotated[str, typer.Option(help="how consent was captured")] = "signed_form",
    age: Annotated[int | None, typer.Option(help="the person's age, if known")] = None,
    guardian: Annotated[bool, typer.Option(help="a parent or guardian consented")] = False,
    egress: Annotated[bool, typer.Option(help="separate consent to leave the device")] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Record a consent captured on a signed form; prints the person's receipt."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.give_consent(
                deployment,
                subject,
                notice_version=notice_version,
                method=method,
                subject_age=age,
                by_guardian=guardian,
                egress=egress,
            ).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"consent {r['consent_id']} recorded against notice v{r['notice_version']}\n"
            f"give the person their access code: [bold]{r['access_code']}[/]"
        ),
    )


@consent_app.command("refuse")
def consent_refuse(
    deployment: DeploymentId,
    method: Annotated[str, typer.Option(help="how the refusal was made")] = "signed_form",
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Record, anonymously, that someone refused; they keep the non-face alternative."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            event_id = gate.record_refusal(deployment, method=method)
            return {
                "event_id": event_id,
                "alternative": gate.get_deployment(deployment).alternative,
            }

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"refusal recorded ({r['event_id']}); offer the alternative: {r['alternative']}"
        ),
    )


@consent_app.command("withdraw")
def consent_withdraw(
    deployment: DeploymentId, subject: SubjectRef, home: Home = None, as_json: Json = False
) -> None:
    """Withdraw consent; everything held about the person is erased."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.withdraw_consent(deployment, subject).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"consent withdrawn; {r['templates_erased']} template(s) erased, key destroyed"
        ),
    )


# --- recognition -----------------------------------------------------------------------------


@app.command()
def enroll(
    deployment: DeploymentId,
    subject: SubjectRef,
    image: ImagePath,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Enroll the one face in IMAGE for a person who has consented."""
    data = read_image(image, as_json)

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.enroll(deployment, subject, data).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{image},enrolled,{r['template_id']}"))


@app.command()
def verify(
    deployment: DeploymentId,
    subject: SubjectRef,
    image: ImagePath,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Is the face in IMAGE this person? Prints file,decision,score."""
    data = read_image(image, as_json)

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.verify(deployment, subject, data).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{image},{r['decision']},{r['score']:.4f}"))


@app.command()
def identify(
    deployment: DeploymentId, image: ImagePath, home: Home = None, as_json: Json = False
) -> None:
    """Who in this deployment is the face in IMAGE? Prints file,name (or unknown_person)."""
    data = read_image(image, as_json)

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.identify(deployment, data).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{image},{r['subject_ref'] or 'unknown_person'}"))


@app.command()
def erase(
    deployment: DeploymentId, subject: SubjectRef, home: Home = None, as_json: Json = False
) -> None:
    """Erase a person: templates deleted, their key destroyed, a receipt in the ledger."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.erase(deployment, subject).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"erased {r['templates_erased']} template(s)"))


# --- ledger and keys -------------------------------------------------------------------------


@apikey_app.command("create")
def apikey_create(
    operator: Annotated[str, typer.Option(help="operator id")] = "op_local",
    label: Annotated[str, typer.Option(help="what the key is for")] = "",
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Issue an API key (shown once; only its hash is kept)."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.issue_api_key(operator, label=label).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"API key for {r['operator_id']}: [bold]{r['key']}[/]"))


def main() -> None:
    app()
