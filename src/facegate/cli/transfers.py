"""``facegate recipient``, ``share``, ``export``, ``trace`` and ``alert``: when face data
leaves (issue 14; ``docs/transfers.md``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from facegate import errors as e
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
from facegate.transfers.fileformat import MAX_TRACE_BYTES

__all__ = ["register_commands"]

recipient_app = typer.Typer(
    help="Recipients of face data and their agreements.", no_args_is_help=True
)
alert_app = typer.Typer(help="Harvesting and attacks detected and stopped.", no_args_is_help=True)
Opt = typer.Option
RecipientId = Annotated[str, Opt("--recipient", "-r", help="recipient id")]
Reason = Annotated[str, Opt(help="why (10 to 500 characters; ledgered)")]


def register_commands(app: typer.Typer) -> None:
    """Add ``recipient``, ``share``, ``export``, ``trace`` and ``alert``."""
    app.add_typer(recipient_app, name="recipient")
    app.add_typer(alert_app, name="alert")
    app.command("share")(share)
    app.command("export")(export)
    app.command("trace")(trace)


@recipient_app.command("add")
def recipient_add(
    deployment: DeploymentId,
    name: Annotated[str | None, Opt(help="who receives the data")] = None,
    contact: Annotated[str | None, Opt(help="how to reach them")] = None,
    role: Annotated[str | None, Opt(help="processor (acts for you) or controller")] = None,
    country: Annotated[str | None, Opt(help="ISO 3166 code of where the data goes")] = None,
    purpose: Annotated[str | None, Opt(help="what the recipient uses it for")] = None,
    same_purpose: Annotated[
        bool | None,
        Opt("--same-purpose/--other-purpose", help="only for the deployment's stated purpose"),
    ] = None,
    retention_days: Annotated[
        str | None, Opt(help="days the recipient may keep it, or 'unlimited'")
    ] = None,
    irrevocable: Annotated[
        bool | None, Opt("--irrevocable/--revocable", help="rights that cannot be revoked")
    ] = None,
    for_profit: Annotated[
        bool | None, Opt("--for-profit/--not-for-profit", help="payment or benefit received")
    ] = None,
    mechanism: Annotated[
        str | None,
        Opt(help="abroad: security_assessment, standard_contract, certification; else none"),
    ] = None,
    max_people: Annotated[int | None, Opt(help="the most people it may receive")] = None,
    agreement: Annotated[
        str | None, Opt(help="the signed agreement: a file or its SHA-256")
    ] = None,
    ends: Annotated[str | None, Opt(help="when the agreement ends (ISO 8601)")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Record a recipient and its agreement; every term is required (CN-SPC-7)."""

    def act() -> dict[str, Any]:
        retention: int | str | None = retention_days
        if retention_days is not None and retention_days.strip().isdigit():
            retention = int(retention_days)
        fields: dict[str, Any] = {
            "name": name,
            "contact": contact,
            "role": role,
            "country": country,
            "purpose": purpose,
            "same_purpose": same_purpose,
            "retention_days": retention,
            "irrevocable": irrevocable,
            "for_profit": for_profit,
            "mechanism": mechanism,
            "max_people": max_people,
            "agreement_sha256": sha256_of(agreement, "--agreement") if agreement else None,
            "ends_at": ends,
        }
        with gate_for(home, key) as gate:
            given = {k: v for k, v in fields.items() if v is not None}
            return gate.add_recipient(deployment, **given).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"recipient {r['id']} recorded ({r['event_id']})"))


@recipient_app.command("list")
def recipient_list(
    deployment: DeploymentId, home: Home = None, key: Key = None, as_json: Json = False
) -> None:
    """The recipients of a deployment: id,name,role,country,people received,revoked."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [r.to_dict() for r in gate.list_recipients(deployment)]

    rows = run(as_json, act)

    def human() -> None:
        for r in rows:
            revoked = f"revoked {r['revoked_at'][:10]}" if r["revoked_at"] else "active"
            out.print(
                f"{r['id']},{r['name']},{r['role']},{r['country']},{r['people_received']},{revoked}"
            )

    emit(as_json, rows, human)


@recipient_app.command("revoke")
def recipient_revoke(
    recipient: Annotated[str, typer.Argument(help="recipient id")],
    reason: Reason,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """End a recipient's agreement: nothing more goes to it; its export keys are revoked."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.revoke_recipient(recipient, reason=reason).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"recipient {r['id']} revoked"))


@recipient_app.command("consent")
def recipient_consent(
    deployment: DeploymentId,
    subject: SubjectRef,
    recipient: RecipientId,
    method: Annotated[str | None, Opt(help="signed_form, electronic_signature, ...")] = None,
    form: Annotated[str | None, Opt(help="the signed form: a file, or its SHA-256")] = None,
    egress: Annotated[
        bool | None, Opt("--egress/--no-egress", help="to leave the device or the country")
    ] = None,
    disclosure: Annotated[
        bool | None, Opt("--disclosure/--no-disclosure", help="to be disclosed to it")
    ] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Record a person's separate consent to their face data going to one recipient."""

    def act() -> dict[str, Any]:
        fields: dict[str, Any] = {
            "recipient_id": recipient,
            "method": method,
            "form_sha256": sha256_of(form, "--form") if form else None,
            "egress": egress,
            "disclosure": disclosure,
        }
        with gate_for(home, key) as gate:
            given = {k: v for k, v in fields.items() if v is not None}
            return gate.give_transfer_consent(deployment, subject, **given).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"consent {r['consent_id']} recorded ({r['event_id']})"))


def _send(
    verb: str,
    deployment: str,
    recipient: str,
    *,
    who: tuple[list[str] | None, bool],
    paths: tuple[Path, Path],
    home: Path | None,
    key: str | None,
    as_json: bool,
) -> None:
    def act() -> dict[str, Any]:
        for path in paths:  # checked first: nothing leaves unless both files can be written
            if path.exists() or not path.parent.is_dir():
                raise e.InvalidInput(
                    f"{path} exists, or its folder does not; nothing was sent",
                    advice="Name two new files in an existing folder.",
                )
        with gate_for(home, key) as gate:
            method = gate.share if verb == "share" else gate.export
            result = method(deployment, recipient, subjects=who[0] or None, everyone=who[1])
        _write(paths[0], result.file)
        _write(paths[1], result.key_file)
        return {**result.summary(), "file": str(paths[0]), "key_file": str(paths[1])}

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"{r['file']},{r['export_id']},{r['people']} people,{r['file_sha256']}\n"
            f"the key is in {r['key_file']}: hand it over apart from the file"
        ),
    )


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


Subjects = Annotated[
    list[str] | None, Opt("--subject", "-s", help="a person who leaves (repeatable)")
]
Everyone = Annotated[bool, Opt("--everyone", help="everyone with a face and a consent")]
OutFile = Annotated[Path, Opt("--out", "-o", help="the export file to write (new)")]
KeyFile = Annotated[Path, Opt("--key-out", help="the key file to write (new), to send apart")]


def share(
    deployment: DeploymentId,
    recipient: RecipientId,
    out_file: OutFile,
    key_file: KeyFile,
    subject: Subjects = None,
    everyone: Everyone = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Disclose people's face data to a recipient, re-protected under a key of its own."""
    _send(
        "share",
        deployment,
        recipient,
        who=(subject, everyone),
        paths=(out_file, key_file),
        home=home,
        key=key,
        as_json=as_json,
    )


def export(
    deployment: DeploymentId,
    recipient: RecipientId,
    out_file: OutFile,
    key_file: KeyFile,
    subject: Subjects = None,
    everyone: Everyone = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Move people's face data off the device or abroad, to a recipient."""
    _send(
        "export",
        deployment,
        recipient,
        who=(subject, everyone),
        paths=(out_file, key_file),
        home=home,
        key=key,
        as_json=as_json,
    )


def trace(
    file: Annotated[Path, typer.Argument(help="a leaked file (any part, any encoding)")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Which export FILE came from: file,export,recipient,confidence (and ledger events)."""

    def act() -> dict[str, Any]:
        try:
            if file.stat().st_size > MAX_TRACE_BYTES:
                raise e.InvalidInput(f"{file} is larger than {MAX_TRACE_BYTES} bytes")
            data = file.read_bytes()
        except OSError as exc:
            raise e.InvalidInput(f"cannot read {file}: {exc.strerror}") from None
        with gate_for(home, key) as gate:
            return gate.trace(data).to_dict()

    r = run(as_json, act)

    def human() -> None:
        who = r["recipient"] or ("the operator's own store" if r["verdict"] == "deployment" else "")
        named = r["export_id"] or r["deployment_id"] or "none"
        out.print(f"{file},{named},{who or 'unknown'},{r['confidence']:.12f}")
        out.print(
            f"{r['attributed']} of {r['templates']} templates attributed; chance of a wrong "
            f"attribution below 1e{r['evidence_log10']:.0f}; canaries found: {r['canaries_found']}"
        )
        for what, event_id in r["ledger_events"].items():
            out.print(f"ledger {what}: {event_id}")
        out.print(f"this trace: {r['event_id']}")

    emit(as_json, r, human)


@alert_app.command("list")
def alert_list(
    open_only: Annotated[bool, Opt("--open", help="only blocks in force or undelivered")] = False,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Alerts raised: id,kind,deployment,raised,blocks until,delivered,why."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [a.to_dict() for a in gate.list_alerts(open_only=open_only)]

    rows = run(as_json, act)

    def human() -> None:
        for a in rows:
            out.print(
                f"{a['id']},{a['kind']},{a['deployment_id']},{a['raised_at']},"
                f"{a['blocks_until'] or '-'},{a['delivered_at'] or 'pending'},"
                f"{a['details'].get('why', '')}"
            )

    emit(as_json, rows, human)


@alert_app.command("clear")
def alert_clear(
    alert: Annotated[str, typer.Argument(help="alert id")],
    reason: Reason,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Lift an alert's block early (admin or DPO), with reasons."""

    def act() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            return gate.clear_alert(alert, reason=reason).to_dict()

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"alert {r['id']} cleared"))


@alert_app.command("deliver")
def alert_deliver(
    url: Annotated[str | None, Opt(help="the regulator (when several are linked)")] = None,
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Send the alerts not yet delivered to the regulator."""

    def act() -> list[dict[str, Any]]:
        with gate_for(home, key) as gate:
            return [a.to_dict() for a in gate.deliver_alerts(url=url)]

    rows = run(as_json, act)
    emit(as_json, rows, lambda: out.print(f"{len(rows)} alerts delivered"))
