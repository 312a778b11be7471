"""``facegate ledger``: the tamper-evident ledger, its proofs and its witnesses."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import typer

from facegate import errors as e
from facegate.cli.common import Home, Json, emit, fail, gate_for, out, run

ledger_app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)

Size = Annotated[
    int | None, typer.Option("--size", help="tree size (default: the latest signed)", min=1)
]


@ledger_app.command("verify")
def ledger_verify(home: Home = None, as_json: Json = False) -> None:
    """Recompute the whole ledger (entries, stored columns, nodes, signed heads, the index);
    exit 7 naming the first bad entry, or the signed heads that are missing."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return gate.verify_ledger().to_dict()

    r = run(as_json, act)
    if not r["ok"]:
        where = "" if r["first_bad_index"] is None else f" at entry {r['first_bad_index']}"
        raise fail(
            e.LedgerTampered(
                f"ledger verification failed{where}: {r['problem']}", index=r["first_bad_index"]
            ),
            as_json,
        )
    emit(
        as_json,
        r,
        lambda: out.print(
            f"ledger OK: {r['size']} entries (every stored column matches its entry), "
            f"{r['heads_checked']} signed heads, root {r['root_hex']}, "
            f"index root {r.get('index_root_hex') or 'none yet'}",
            highlight=False,
        ),
    )


@ledger_app.command("checkpoint")
def ledger_checkpoint(size: Size = None, home: Home = None, as_json: Json = False) -> None:
    """Print the latest signed checkpoint (or the one signed at --size, with cosignatures)."""

    def act() -> str:
        with gate_for(home) as gate:
            return gate.checkpoint() if size is None else gate.checkpoint_at(size)

    note = run(as_json, act)
    emit(as_json, {"checkpoint": note}, lambda: print(note, end=""))


@ledger_app.command("key")
def ledger_key(home: Home = None, as_json: Json = False) -> None:
    """Print the checkpoint verifier key to give witnesses and courts."""

    def act() -> str:
        with gate_for(home) as gate:
            return gate.ledger_key()

    key = run(as_json, act)
    emit(as_json, {"verifier_key": key}, lambda: print(key))


@ledger_app.command("entry")
def ledger_entry(
    index: Annotated[int, typer.Argument(help="leaf index, from 0", min=0)],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Print entry INDEX: the exact leaf bytes (base64) and their RFC 9162 leaf hash."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            entry = gate.ledger_entry(index)
        return {
            "index": entry.index,
            "event_id": entry.event_id,
            "kind": entry.kind,
            "leaf": base64.b64encode(entry.data).decode(),
            "leaf_hash": entry.leaf_hash.hex(),
        }

    r = run(as_json, act)
    emit(
        as_json,
        r,
        lambda: print(
            f"entry {r['index']} ({r['kind']}, {r['event_id']})\n"
            f"leaf (base64): {r['leaf']}\nleaf hash: {r['leaf_hash']}"
        ),
    )


@ledger_app.command("prove")
def ledger_prove(
    index: Annotated[int, typer.Argument(help="leaf index, from 0", min=0)],
    size: Size = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Print the inclusion proof of entry INDEX: index, tree size, hashes (hex, leaf end first)."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            proof = gate.inclusion_proof(index, size)
        return {
            "index": proof.index,
            "size": proof.size,
            "hashes": [h.hex() for h in proof.hashes],
        }

    r = run(as_json, act)
    emit(as_json, r, lambda: print(f"{r['index']} {r['size']}", *r["hashes"], sep="\n"))


@ledger_app.command("consistency")
def ledger_consistency(
    old_size: Annotated[int, typer.Argument(help="the older tree size", min=0)],
    new_size: Annotated[int, typer.Argument(help="the newer tree size", min=1)],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Print the RFC 9162 consistency proof between tree sizes OLD_SIZE and NEW_SIZE."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            proof = gate.consistency_proof(old_size, new_size)
        return {
            "old_size": proof.old_size,
            "new_size": proof.new_size,
            "hashes": [h.hex() for h in proof.hashes],
        }

    r = run(as_json, act)
    emit(as_json, r, lambda: print(f"{r['old_size']} {r['new_size']}", *r["hashes"], sep="\n"))


@ledger_app.command("witness-add")
def ledger_witness_add(
    key: Annotated[str, typer.Argument(help="the witness's verifier key")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Accept cosignatures from this witness (its key is printed by 'facegate witness init')."""

    def act() -> dict[str, Any]:
        with gate_for(home) as gate:
            return {"name": gate.add_witness(key), "key": key.strip()}

    r = run(as_json, act)
    emit(as_json, r, lambda: out.print(f"witness {r['name']} registered"))


@ledger_app.command("witnesses")
def ledger_witnesses(home: Home = None, as_json: Json = False) -> None:
    """List the witnesses whose cosignatures this ledger accepts."""

    def act() -> list[str]:
        with gate_for(home) as gate:
            return gate.witnesses()

    keys = run(as_json, act)
    emit(as_json, keys, lambda: print(*keys, sep="\n") if keys else out.print("no witnesses"))
