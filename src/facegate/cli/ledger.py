"""``facegate ledger``: the tamper-evident ledger."""

from __future__ import annotations

from typing import Any

import typer

from facegate import errors as e
from facegate.cli.common import Home, Json, emit, fail, gate_for, out, run

ledger_app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)


@ledger_app.command("verify")
def ledger_verify(home: Home = None, as_json: Json = False) -> None:
    """Recompute the whole ledger; exit 7 and name the first bad entry on any alteration."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.verify_ledger().to_dict()

    r = run(as_json, act)
    if not r["ok"]:
        raise fail(
            e.LedgerTampered(
                f"ledger verification failed at entry {r['first_bad_index']}: {r['problem']}",
                index=r["first_bad_index"],
            ),
            as_json,
        )
    emit(
        as_json,
        r,
        lambda: out.print(
            f"ledger OK: {r['size']} entries, {r['heads_checked']} signed heads, "
            f"root {r['root_hex']}"
        ),
    )


@ledger_app.command("checkpoint")
def ledger_checkpoint(home: Home = None, as_json: Json = False) -> None:
    """Print the latest signed checkpoint."""

    def act() -> str:
        with gate_for(home) as gate:
            return str(gate.checkpoint())

    note = run(as_json, act)
    emit(as_json, {"checkpoint": note}, lambda: print(note, end=""))
