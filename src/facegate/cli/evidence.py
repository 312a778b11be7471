"""``facegate evidence`` (bundles for courts) and ``facegate witness`` (a regulator's watch).

``evidence verify`` is fully offline: it reads one file and never opens an installation.
Its exit code says what the bundle shows: 0 authentic and lawful, 4 authentic but showing
processing without a consent in force, 7 not authentic (altered, or never signed by the log).
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate import errors as e
from facegate.cli.common import Home, Json, emit, fail, gate_for, out, run

evidence_app = typer.Typer(
    help="Evidence bundles a court can verify offline.", no_args_is_help=True
)
witness_app = typer.Typer(
    help="Witness a facegate ledger: check it only grows, cosign it.", no_args_is_help=True
)

if TYPE_CHECKING:
    from facegate.ledger.witness import LogView

_PSEUDONYM = re.compile(r"[0-9a-f]{32}")
EXIT_UNLAWFUL = 4

StateDir = Annotated[Path, typer.Option("--state", help="the witness's own directory")]
Url = Annotated[
    str | None,
    typer.Option("--url", help="the log's service URL; without it, the installation at --home"),
]


def _read_json(path: Path, as_json: bool) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(e.InvalidInput(f"cannot read {path} as JSON: {exc}"), as_json) from None


def _signed_receipt(doc: Any, path: Path, as_json: bool) -> dict[str, Any]:
    """A signed receipt ``{receipt, signature}``, alone or inside 'consent give --json' output."""
    if isinstance(doc, dict) and isinstance(doc.get("receipt"), dict):
        if "signature" in doc:
            return doc
        if "signature" in doc["receipt"]:
            return dict(doc["receipt"])
    raise fail(e.InvalidInput(f"{path} holds no signed consent receipt"), as_json)


@evidence_app.command("export")
def evidence_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="bundle file to write")],
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="the person: the access code on their receipt, or (after erasure) the "
            "pseudonym printed on it as piiPrincipalId",
        ),
    ] = None,
    deployment: Annotated[str | None, typer.Option("--deployment", help="a deployment id")] = None,
    receipt: Annotated[
        list[Path] | None,
        typer.Option("--receipt", help="a receipt file the person brought (repeatable)"),
    ] = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Write the evidence bundle of one person or one deployment to a JSON file."""
    brought = [_signed_receipt(_read_json(p, as_json), p, as_json) for p in receipt or []]
    code = pseudonym = None
    if subject is not None:
        subject = subject.strip()
        if _PSEUDONYM.fullmatch(subject):
            pseudonym = subject
        else:
            code = subject
    elif deployment is None and brought:
        pseudonym = str(brought[0].get("receipt", {}).get("piiPrincipalId"))

    def act() -> dict[str, Any]:
        from facegate.ledger.evidence import bundle_json

        with gate_for(home) as gate:
            bundle = gate.export_evidence(
                access_code=code, pseudonym=pseudonym, deployment_id=deployment, receipts=brought
            )
        try:
            output.write_text(bundle_json(bundle), encoding="utf-8")
        except OSError as exc:
            raise e.InvalidInput(f"cannot write {output}: {exc.strerror}") from None
        return {
            "file": str(output),
            "scope": bundle["scope"],
            "entries": len(bundle["entries"]),
            "receipts": len(bundle["receipts"]),
            "witnesses": bundle["log"]["witnesses"],
            "checkpoint": bundle["log"]["checkpoint"],
        }

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"wrote {r['file']}: {r['entries']} event(s), {r['receipts']} receipt(s), "
            f"cosigned by {len(r['witnesses'])} witness(es)"
        ),
    )


@evidence_app.command("verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(help="the bundle file")],
    log_key: Annotated[
        str | None,
        typer.Option("--log-key", help="the operator's verifier key, obtained independently"),
    ] = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="a witness key you trust (repeatable)")
    ] = None,
    require_witness: Annotated[
        list[str] | None,
        typer.Option("--require-witness", help="fail unless this witness cosigned (repeatable)"),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="accepted for uniformity; verification opens no installation"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Check a bundle offline: proofs, signatures, cosignatures, receipts; then say who
    processed what, when, under which consent, and whether anything happened without one."""
    from facegate.ledger.evidence_verify import verify_bundle
    from facegate.regulator.require import require_cosigners

    del home
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise fail(e.InvalidInput(f"cannot read {bundle}: {exc.strerror}"), as_json) from None
    trusted = [*(witness or []), *(require_witness or [])]
    verdict = run(as_json, lambda: verify_bundle(data, log_key=log_key, witness_keys=trusted))
    run(as_json, lambda: require_cosigners(verdict, require_witness or []))
    emit(as_json, verdict.to_dict(), lambda: print(verdict.summary()))
    if not verdict.lawful:
        raise typer.Exit(EXIT_UNLAWFUL)


# --- witness ---------------------------------------------------------------------------------


def _log(url: str | None, home: Path | None) -> AbstractContextManager[LogView]:
    """The log to watch: over HTTP, or an installation opened in this process."""
    if url is not None:
        from facegate.ledger.witness_http import HttpLog

        return HttpLog(url)
    return gate_for(home)


@witness_app.command("init")
def witness_init(
    state: StateDir,
    name: Annotated[str, typer.Option("--name", help="the witness's key name, e.g. regulator")],
    log_key: Annotated[
        str | None,
        typer.Option("--log-key", help="the log's verifier key (default: ask the log: TOFU)"),
    ] = None,
    url: Url = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Create a witness: a cosigning key and an empty state; prints the key to register."""
    from facegate.ledger.witness import Witness

    def act() -> dict[str, Any]:
        key = log_key
        if key is None:
            if url is not None:
                from facegate.ledger.witness_http import HttpLog

                with HttpLog(url) as remote:
                    key = remote.key()
            else:
                with gate_for(home) as gate:
                    key = gate.ledger_key()
        w = Witness.create(state, name=name, log_key=key)
        return {"state": str(w.directory), "witness_key": w.verifier_key, "log_key": key}

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"witness ready in {r['state']}\nits key (register it with the operator: "
            f"'facegate ledger witness-add KEY'):\n{r['witness_key']}",
            highlight=False,
        ),
    )


@witness_app.command("check")
def witness_check(
    state: StateDir,
    url: Url = None,
    submit: Annotated[
        bool, typer.Option("--submit/--no-submit", help="hand the cosignature to the log")
    ] = True,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Fetch the log's checkpoint and a consistency proof, verify, cosign; exit 7 naming a fork
    or rollback (the evidence is kept under STATE/alarms)."""
    from facegate.ledger.witness import Witness

    def act() -> dict[str, Any]:
        witness = Witness(state)
        with _log(url, home) as log:
            seen = witness.observe(log, submit=submit)
        return {
            "old_size": seen.old_size,
            "size": seen.size,
            "root": seen.root_hash.hex(),
            "timestamp": seen.timestamp,
            "submitted": seen.submitted,
            "submit_error": seen.submit_error,
            "cosigned": seen.cosigned,
        }

    r = run(as_json, act)

    def human() -> None:
        since = "first sight" if r["old_size"] is None else f"extends size {r['old_size']}"
        print(f"cosigned size {r['size']} ({since}), root {r['root']}")
        if submit and not r["submitted"]:
            out.print(f"warning: the log did not take the cosignature: {r['submit_error']}")

    emit(as_json, r, human)


@witness_app.command("show")
def witness_show(
    state: StateDir,
    home: Annotated[
        Path | None, typer.Option("--home", help="accepted for uniformity; unused")
    ] = None,
    as_json: Json = False,
) -> None:
    """Print the witness's key and the last checkpoint it accepted."""
    from facegate.ledger.witness import Witness

    del home

    def act() -> dict[str, Any]:
        w = Witness(state)
        cp = w.state.accepted()
        return {
            "witness_key": w.verifier_key,
            "log_key": w.state.log_key,
            "size": cp.size if cp else None,
            "root": cp.root_hash.hex() if cp else None,
        }

    r = run(as_json, act)
    emit(as_json, r, lambda: print(*(f"{k}: {v}" for k, v in r.items()), sep="\n"))
