"""``facegate deployment`` and ``facegate pia``: register a deployment as the law asks, have the
DPO sign it, change it, end it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from facegate import errors as e
from facegate.cli.common import DeploymentId, Home, Json, Key, emit, gate_for, out, run

deployment_app = typer.Typer(help="Register, change and end deployments.", no_args_is_help=True)
pia_app = typer.Typer(
    help="Impact assessments: the DPO's sign-off takes a deployment live.", no_args_is_help=True
)

Opt = typer.Option


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _answers(path: Path | None) -> dict[str, Any] | None:
    """The assessment's answers from a JSON file: lawfulness, impact, risks, safeguards,
    conclusion (the DPO writes the necessity statement with --necessity)."""
    if path is None:
        return None
    try:
        data = json.loads(path.expanduser().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise e.InvalidInput(
            f"cannot read the assessment's answers from {path}: {exc}",
            advice="Give a JSON object with lawfulness, impact, risks, safeguards, conclusion.",
        ) from None
    if not isinstance(data, dict):
        raise e.InvalidInput(f"{path} must hold a JSON object of answers")
    return data


def _security(authority: str | None, instrument: str | None, area: str | None) -> Any:
    if authority is None and instrument is None and area is None:
        return None
    return {"authority": authority or "", "instrument": instrument or "", "area": area or ""}


@deployment_app.command("create")
def deployment_create(
    name: Annotated[str, Opt(help="a name people will recognise")],
    purpose: Annotated[str, Opt(help="what face recognition is for (CN-FR-4)")],
    location: Annotated[str, Opt(help="place type, e.g. residential_compound (CN-FR-13)")],
    alternative: Annotated[str, Opt(help="the non-face way offered, e.g. key card (CN-FR-10)")],
    jurisdiction: Annotated[
        str | None, Opt(help="policy packs: cn, eu, us-il, cn+ind-2019")
    ] = None,
    legal_basis: Annotated[str | None, Opt(help="consent, law, employment_law, ...")] = None,
    retention_days: Annotated[int | None, Opt(help="days a template is kept")] = None,
    capability: Annotated[
        list[str] | None, Opt(help="verify, identify, remote_identification ... (repeat)")
    ] = None,
    signage: Annotated[
        bool | None, Opt("--signage/--no-signage", help="prominent signs are posted")
    ] = None,
    capture: Annotated[
        str | None, Opt(help="for identify: on_request (people ask) or in_view (anyone)")
    ] = None,
    scope: Annotated[str, Opt(help="application or research (CN-FR-2)")] = "application",
    egress: Annotated[bool, Opt(help="face data may leave the device (CN-FR-8)")] = False,
    purpose_ends: Annotated[datetime | None, Opt(help="when the purpose ends")] = None,
    necessity: Annotated[str | None, Opt(help="a proposal; the DPO writes it at sign-off")] = None,
    threshold: Annotated[float | None, Opt(help="match threshold [calibrated default]")] = None,
    security_authority: Annotated[str | None, Opt(help="public places: the authority")] = None,
    security_instrument: Annotated[str | None, Opt(help="... the legal instrument")] = None,
    security_area: Annotated[str | None, Opt(help="... the defined area")] = None,
    risk_team: Annotated[str | None, Opt(help="risk team (IND-2019)")] = None,
    accountable: Annotated[str | None, Opt(help="accountable person (IND-2019)")] = None,
    fairness_tested: Annotated[
        bool | None, Opt("--fairness-tested/--not-fairness-tested", help="IND-2019")
    ] = None,
    opt_out: Annotated[bool | None, Opt("--opt-out/--no-opt-out", help="US-WA")] = None,
    alternative_penalty: Annotated[
        bool | None,
        Opt("--alternative-penalty/--no-alternative-penalty", help="refusing costs (CN-FR-12)"),
    ] = None,
    law_enforcement: Annotated[
        bool | None,
        Opt("--law-enforcement/--not-law-enforcement", help="operated for police (EU-AI-5)"),
    ] = None,
    liveness: Annotated[bool, Opt(help="people must pass a liveness check")] = False,
    liveness_challenge: Annotated[
        bool, Opt(help="enroll/verify also need a passed blink or turn challenge")
    ] = False,
    unknown_alerts: Annotated[
        bool, Opt(help="a 1:N search that finds nobody raises a ledgered alert")
    ] = False,
    pia: Annotated[Path | None, Opt(help="JSON file with the assessment's answers")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Register a draft deployment; refused, with the rule cited, if the law forbids it."""

    def act() -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": name,
            "purpose": purpose,
            "location": location,
            "alternative": alternative,
            "jurisdiction": jurisdiction,
            "legal_basis": legal_basis,
            "retention_days": retention_days,
            "capabilities": capability,
            "signage": signage,
            "capture": capture,
            "scope": scope,
            "egress": egress,
            "purpose_ends_at": _aware(purpose_ends),
            "necessity": necessity,
            "threshold": threshold,
            "public_security": _security(security_authority, security_instrument, security_area),
            "risk_team": risk_team,
            "accountable": accountable,
            "fairness_tested": fairness_tested,
            "opt_out": opt_out,
            "alternative_penalty": alternative_penalty,
            "law_enforcement": law_enforcement,
            "liveness": liveness,
            "liveness_challenge": liveness_challenge,
            "unknown_alerts": unknown_alerts,
            "pia": _answers(pia),
        }
        given = {k: v for k, v in fields.items() if v is not None}
        with gate_for(home, key) as gate:
            return gate.create_deployment(**given).to_dict()

    d = run(as_json, act)
    emit(as_json, d, lambda: _created(d))


def _created(d: dict[str, Any]) -> None:
    out.print(f"deployment [bold]{d['id']}[/] registered as a {d['status']}")
    for note in d["notes"]:
        out.print(f"  note: {note}")


@deployment_app.command("change")
def deployment_change(
    deployment: DeploymentId,
    set_: Annotated[
        list[str], Opt("--set", help="FIELD=VALUE (JSON values), e.g. retention_days=180")
    ],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Change a deployment; it becomes a draft until the DPO signs again."""

    def act() -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for item in set_:
            field, sep, raw = item.partition("=")
            if not sep:
                raise e.InvalidInput(f"--set {item!r} is not FIELD=VALUE")
            try:
                changes[field.strip()] = json.loads(raw)
            except ValueError:
                changes[field.strip()] = raw
        with gate_for(home, key) as gate:
            return gate.change_deployment(deployment, **changes).to_dict()

    d = run(as_json, act)
    emit(as_json, d, lambda: _created(d))


@deployment_app.command("end")
def deployment_end(
    deployment: DeploymentId,
    reason: Annotated[str, Opt(help="why it ends, e.g. 'the building closed'")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """The purpose is met: erase everyone (a receipt each) and end processing for good."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.end_deployment(deployment, reason=reason).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"deployment ended: {r['people_erased']} person(s) and {r['templates_erased']} "
            "template(s) erased"
        ),
    )


@deployment_app.command("list")
def deployment_list(home: Home = None, key: Key = None, as_json: Json = False) -> None:
    """List deployments."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [d.to_dict() for d in gate.list_deployments()]

    rows = run(as_json, act)

    def human() -> None:
        table = Table(
            Column("id", no_wrap=True, overflow="ignore"),
            "name",
            "status",
            "location",
            "jurisdiction",
            "threshold",
        )
        for d in rows:
            table.add_row(
                d["id"],
                d["name"],
                d["status"],
                d["location_type"],
                d["jurisdiction"],
                str(d["threshold"]),
            )
        out.print(table, crop=False, overflow="ignore")

    emit(as_json, rows, human)


@deployment_app.command("notice")
def deployment_notice(
    deployment: DeploymentId,
    language: Annotated[str, Opt(help="en or zh-CN")] = "en",
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Show the notice in force: what people must be shown before consenting."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.notice(deployment, language=language).to_dict()

    n = run(as_json, act)

    def human() -> None:
        out.print(f"[bold]Notice v{n['version']}[/] (sha256 {n['sha256'][:16]}…)")
        for k, v in n["body"].items():
            out.print(f"[bold]{k}[/]: {v}")

    emit(as_json, n, human)


@pia_app.command("show")
def pia_show(
    deployment: DeploymentId, home: Home = None, key: Key = None, as_json: Json = False
) -> None:
    """The assessment as it stands, what it lacks, and who signed it."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.pia(deployment).to_dict()

    p = run(as_json, act)

    def human() -> None:
        out.print(
            f"[bold]impact assessment v{p['version']}[/] of {p['deployment_id']} ({p['status']})"
        )
        for k, v in p["answers"].items():
            out.print(f"[bold]{k}[/]: {v}")
        if p["missing"]:
            out.print("unanswered: " + ", ".join(p["missing"]))
        if p["signed_by"]:
            out.print(f"signed by {p['signed_by']} at {p['signed_at']}")

    emit(as_json, p, human)


@pia_app.command("sign")
def pia_sign(
    deployment: DeploymentId,
    necessity: Annotated[str, Opt(help="why face recognition is necessary (CN-FR-4)")],
    answers: Annotated[Path | None, Opt(help="JSON file with the assessment's answers")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Sign the assessment (only a principal with the dpo role); the deployment goes live."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.sign_pia(
                deployment, necessity=necessity, answers=_answers(answers)
            ).to_dict()

    d = run(as_json, act)
    emit(
        as_json,
        d,
        lambda: out.print(
            f"deployment [bold]{d['id']}[/] is {d['status']}: notice v{d['notice_version']} "
            "published"
        ),
    )


@pia_app.command("delete")
def pia_delete(
    deployment: DeploymentId,
    version: Annotated[int, Opt(help="the assessment version")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Delete an old assessment once kept long enough (CN-FR-9: 3 years)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return {"event_id": gate.delete_pia(deployment, version)}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"deleted ({r['event_id']})"))
