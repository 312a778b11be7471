"""``facegate keys``: master-key rotation, deployment-key revocation, re-enrollment."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from facegate.cli.common import DeploymentId, Home, Json, emit, gate_for, out, run, settings_for
from facegate.errors import InvalidInput
from facegate.templates import MasterKey

keys_app = typer.Typer(
    help="Keys: rotate the master key, revoke a deployment key, re-enroll.",
    no_args_is_help=True,
)

#: where ``rotate-master`` reads a new master key given as base64
NEW_KEY_ENV = "FACEGATE_NEW_MASTER_KEY"


def _plain(value: Any) -> dict[str, Any]:
    data: dict[str, Any] = asdict(value)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


@keys_app.command("status")
def status(home: Home = None, as_json: Json = False) -> None:
    """Which master key wraps each deployment key, and whether a rotation is under way."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            s = gate.key_status()
            return {
                "master_key_id": s.master_key_id,
                "previous_key_ids": list(s.previous_key_ids),
                "rotation_in_progress": s.rotation_in_progress,
                "ledger_key_under_current_master": s.ledger_key_under_current_master,
                "orphan_data_keys": s.orphan_data_keys,
                "deployments": [asdict(d) for d in s.deployments],
            }

    r = run(as_json, act)

    def human() -> None:
        out.print(f"master key {r['master_key_id']}")
        if r["previous_key_ids"]:
            out.print(f"  still accepted (rotation under way): {', '.join(r['previous_key_ids'])}")
        table = Table("deployment", "key id", "wrapped by current master")
        for d in r["deployments"]:
            table.add_row(
                d["deployment_id"], d["key_id"], "yes" if d["under_current_master"] else "NO"
            )
        out.print(table)
        if r["orphan_data_keys"]:
            out.print(
                f"{r['orphan_data_keys']} data key(s) belong to nobody: "
                "run 'facegate keys sweep-orphans'"
            )

    emit(as_json, r, human)


@keys_app.command("rotate-master")
def rotate_master(
    new_key_file: Annotated[
        Path | None,
        typer.Option(help=f"the new master key file [else ${NEW_KEY_ENV}, else a fresh key]"),
    ] = None,
    rewrap_only: Annotated[
        bool,
        typer.Option(
            "--rewrap-only",
            help="re-wrap under the key already in use (master key in FACEGATE_MASTER_KEY, "
            "old one in FACEGATE_PREVIOUS_MASTER_KEY)",
        ),
    ] = False,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Re-wrap every deployment key and the ledger key under a new master key, while serving.

    The old key stays accepted until 'facegate keys finish-rotation'."""

    def act() -> dict[str, Any]:
        new: MasterKey | None = None
        if not rewrap_only:
            if new_key_file is not None:
                new = MasterKey.from_file(new_key_file)
            elif os.environ.get(NEW_KEY_ENV):
                new = MasterKey.from_base64(os.environ[NEW_KEY_ENV])
            elif settings_for(home).master_key:
                # a fresh key would be written nowhere: everything re-wrapped under it lost
                raise InvalidInput(
                    "the master key comes from FACEGATE_MASTER_KEY, so a new one must be given",
                    advice=f"Put the new key in {NEW_KEY_ENV} (or --new-key-file), or set it "
                    "as FACEGATE_MASTER_KEY with the old one in FACEGATE_PREVIOUS_MASTER_KEY, "
                    "restart, and run with --rewrap-only.",
                )
            else:
                new = MasterKey.generate()  # written to master.key.next before any use
        with gate_for(home) as gate:
            return _plain(gate.rotate_master_key(new))

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"master key {r['old_key_id']} -> {r['new_key_id']}: {r['rewrapped']} key(s) "
            f"re-wrapped ({r['already_current']} already were)"
            + (f"; the new key is {r['key_file']}" if r["key_file"] else "")
            + "\nthe old key is still accepted: back up the new one, then run "
            "'facegate keys finish-rotation'"
        ),
    )


@keys_app.command("finish-rotation")
def finish_rotation(home: Home = None, as_json: Json = False) -> None:
    """End a master-key rotation: destroy the old key; it opens nothing any more."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return _plain(gate.finish_master_rotation())

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: out.print(
            f"retired {', '.join(r['retired_key_ids']) or 'no key'}; "
            f"destroyed {', '.join(r['files_destroyed']) or 'no file'}"
            + (
                "\nunset FACEGATE_PREVIOUS_MASTER_KEY"
                if os.environ.get("FACEGATE_PREVIOUS_MASTER_KEY")
                else ""
            )
        ),
    )


@keys_app.command("revoke")
def revoke(
    deployment: DeploymentId,
    reason: Annotated[str, typer.Option(help="why, for the ledger (e.g. an incident number)")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Revoke a deployment's key: every template dies now; people are asked to re-enroll."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return _plain(gate.revoke_deployment_key(deployment, reason=reason))

    r = run(as_json, act)

    def human() -> None:
        out.print(
            f"key {r['old_key_id']} revoked ({r['templates_revoked']} template(s) dead), "
            f"new key {r['new_key_id']}"
        )
        for ref in r["to_reenroll"]:
            out.print(f"{ref},re-enroll")
        for ref in r["consents_not_carried"]:
            out.print(f"{ref},consent-again")

    emit(as_json, r, human)


@keys_app.command("campaign")
def campaign(deployment: DeploymentId, home: Home = None, as_json: Json = False) -> None:
    """Who must enroll again after a revocation (``ref,pending`` or ``ref,enrolled``)."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            c = gate.reenrollment_campaign(deployment)
            return {
                "deployment_id": c.deployment_id,
                "key_id": c.key_id,
                "pending": len(c.pending),
                "entries": [_plain(e) for e in c.entries],
            }

    r = run(as_json, act)

    def human() -> None:
        for e in r["entries"]:
            out.print(f"{e['subject_ref']},{'enrolled' if e['enrolled'] else 'pending'}")

    emit(as_json, r, human)


@keys_app.command("sweep-orphans")
def sweep_orphans(home: Home = None, as_json: Json = False) -> None:
    """Destroy data keys whose person is gone (an erasure interrupted half-way)."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return {"destroyed": gate.sweep_orphan_keys()}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"{r['destroyed']} orphan data key(s) destroyed"))
