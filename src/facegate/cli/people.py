"""``facegate consent``, ``erase``, ``purpose-end`` and ``hold``: what happens to a person."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from facegate.cli.common import (
    DeploymentId,
    Home,
    Json,
    Key,
    SubjectRef,
    emit,
    gate_for,
    out,
    run,
    sha256_of,
)

consent_app = typer.Typer(help="Record consents, refusals and withdrawals.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: keep data past an erasure request.", no_args_is_help=True)
Opt = typer.Option


@consent_app.command("give")
def consent_give(
    deployment: DeploymentId,
    subject: SubjectRef,
    method: Annotated[
        str | None,
        Opt(help="signed_form, written_release, electronic_signature, explicit_click, ..."),
    ] = None,
    form: Annotated[
        str | None, Opt(help="the signed form or e-signature record: a file, or its SHA-256")
    ] = None,
    age: Annotated[int | None, Opt(help="the person's age (CN-FR-6)")] = None,
    adult_attested: Annotated[
        bool, Opt("--adult-attested", help="the person attested being an adult")
    ] = False,
    guardian: Annotated[str | None, Opt(help="the parent or guardian who consented")] = None,
    guardian_form: Annotated[
        str | None, Opt(help="the form the guardian signed: a file, or its SHA-256")
    ] = None,
    notice_version: Annotated[
        int | None, Opt(help="the notice version the person was shown")
    ] = None,
    egress: Annotated[bool, Opt(help="a separate consent to leave the device")] = False,
    disclosure: Annotated[bool, Opt(help="a separate consent to disclosure")] = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Record a person's consent, with every fact the law weighs; prints their access code."""

    def act() -> dict[str, Any]:
        fields: dict[str, Any] = {
            "method": method,
            "form_sha256": sha256_of(form, "--form") if form else None,
            "age": age,
            "adult_attested": adult_attested,
            "guardian": guardian,
            "guardian_form_sha256": (
                sha256_of(guardian_form, "--guardian-form") if guardian_form else None
            ),
            "notice_version": notice_version,
            "egress": egress,
            "disclosure": disclosure,
        }
        with gate_for(home, key) as gate:
            return gate.give_consent(
                deployment, subject, **{k: v for k, v in fields.items() if v is not None}
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
    method: Annotated[str, Opt(help="how the refusal was made, e.g. spoken, form")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Record, anonymously, that someone refused; they keep the non-face alternative."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
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
    deployment: DeploymentId,
    subject: SubjectRef,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Withdraw consent; everything held about the person is erased."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.withdraw_consent(deployment, subject).to_dict()

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"consent withdrawn; {r['templates_erased']} template(s) erased, key destroyed"
        ),
    )


def erase(
    deployment: DeploymentId,
    subject: SubjectRef,
    reason: Annotated[str, Opt(help="why (kept in the ledger as a hash only)")] = "",
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Erase a person: templates deleted, their key destroyed, a receipt in the ledger."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.erase(deployment, subject, reason=reason).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"erased {r['templates_erased']} template(s)"))


def purpose_end(
    deployment: DeploymentId,
    subject: SubjectRef,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """This person's purpose ended (they left): their face data is erased now."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.end_purpose(deployment, subject).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"erased {r['templates_erased']} template(s)"))


@hold_app.command("place")
def hold_place(
    deployment: DeploymentId,
    subject: SubjectRef,
    ground: Annotated[str, Opt(help="legal_claims, legal_obligation, archiving, ...")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Keep a person's data past an erasure request on a legal ground (the packs judge it)."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return {"event_id": gate.hold(deployment, subject, ground=ground)}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"held ({r['event_id']})"))


@hold_app.command("release")
def hold_release(
    deployment: DeploymentId,
    subject: SubjectRef,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Release a hold; a pending erasure request can then be carried out."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return {"event_id": gate.release_hold(deployment, subject)}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"released ({r['event_id']})"))
