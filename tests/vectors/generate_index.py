"""Write facegate's verifiable-index test vectors: completeness proofs, good and bad.

    PYTHONPATH=src python tests/vectors/generate_index.py            # rewrite the JSON file
    PYTHONPATH=src python tests/vectors/generate_index.py --check    # fail if it is stale

Output ``index_proofs.json`` (byte strings in lowercase hex): a small log of facegate events
(the exact leaf bytes), the index root after several sizes, and for some keys at some sizes the
completeness proof (the key's bucket records and the 16 sibling hashes) with the entries naming
the key. Each valid case is followed by invalid variants (a hash flipped, the path cut or
extended, a bucket record reordered, repeated, emptied or foreign, an entry left out, added or
moved, a proof from an older size), each tagged with the error facegate's checker raises.
Two subjects are chosen to share a bucket with a third, so that buckets hold several records;
invalid variants are written for three keys (a subject, an absent subject, a deployment).

Everything is deterministic, so regenerating gives an identical file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in (ROOT / "src", HERE):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from generate import render  # noqa: E402

from facegate.ledger.events import Event, Kind  # noqa: E402
from facegate.ledger.hasher import hash_leaf  # noqa: E402
from facegate.ledger.index_hasher import bucket_of, key_hash, keys_of_leaf  # noqa: E402
from facegate.ledger.index_proofs import (  # noqa: E402
    IndexProof,
    index_proof,
    verify_history,
    verify_index_proof,
)
from facegate.ledger.index_tree import IndexBuilder  # noqa: E402
from facegate.ledger.proofs import ProofError  # noqa: E402

Json = dict[str, Any]
OUT = HERE / "index_proofs.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SIZES = (1, 5, 17, 40, 64)
PROVEN_AT = (17, 64)
#: keys whose proofs also get invalid variants (the file must stay small)
MUTATED = {("subject", "alice"), ("subject", "nobody"), ("deployment", "dep_one")}


def _colliders(base: str, n: int) -> list[str]:
    """Subject pseudonyms that fall in the same bucket as ``base`` (found by counting up)."""
    want, out, i = bucket_of(key_hash("subject", base)), [], 0
    while len(out) < n:
        name = f"collides-{i}"
        if bucket_of(key_hash("subject", name)) == want:
            out.append(name)
        i += 1
    return out


SUBJECTS = ["alice", "bob", "carol", *_colliders("alice", 2)]
DEPLOYMENTS = ["dep_one", "dep_two"]


def log() -> list[bytes]:
    """64 events: subject i % 6 (none every sixth), deployment by thirds, kinds in turn."""
    kinds = [Kind.CONSENT_GIVEN, Kind.ENROLLED, Kind.VERIFIED, Kind.IDENTIFIED]
    leaves = []
    for i in range(max(SIZES)):
        subject = SUBJECTS[i % 6] if i % 6 < len(SUBJECTS) else None
        deployment = None if i % 3 == 2 else DEPLOYMENTS[i % 2]
        event = Event(
            kinds[i % 4],
            T0 + timedelta(minutes=i),
            deployment=deployment,
            subject=subject,
            details={"n": i},
        )
        leaves.append(event.leaf_bytes(f"evt_{i:024x}"))
    return leaves


def _entries(leaves: list[bytes], key: bytes, size: int) -> list[list[Any]]:
    return [[i, hash_leaf(d).hex()] for i, d in enumerate(leaves[:size]) if key in keys_of_leaf(d)]


def _case(
    name: str,
    kind: str,
    value: str,
    size: int,
    proof: IndexProof,
    root: bytes,
    entries: list[list[Any]],
) -> Json:
    return {
        "id": name,
        "key": {"kind": kind, "value": value},
        "size": size,
        "root": root.hex(),
        "records": proof.records.hex(),
        "path": [h.hex() for h in proof.path],
        "entries": entries,
    }


def _error_of(case: Json) -> str:
    """The class of the error facegate's checker raises for a case (it must raise one)."""
    proof = IndexProof(
        key_hash(case["key"]["kind"], case["key"]["value"]),
        case["size"],
        bytes.fromhex(case["records"]),
        tuple(bytes.fromhex(h) for h in case["path"]),
    )
    try:
        verify_index_proof(proof, bytes.fromhex(case["root"]))
        verify_history(proof, [(i, bytes.fromhex(h)) for i, h in case["entries"]])
    except ProofError as err:
        return type(err).__name__
    raise AssertionError(f"invalid case {case['id']} passes")


def _flip(hex_text: str, pos: int) -> str:
    raw = bytearray.fromhex(hex_text)
    raw[pos] ^= 0x01
    return raw.hex()


def _mutations(case: Json, older: Json | None) -> dict[str, Callable[[Json], None]]:
    recs = bytes.fromhex(case["records"])
    n = len(recs) // 72
    out: dict[str, Callable[[Json], None]] = {
        "sibling flipped": lambda c: c["path"].__setitem__(3, _flip(c["path"][3], 0)),
        "path cut": lambda c: c["path"].pop(),
        "path extended": lambda c: c["path"].append(c["path"][0]),
        "root flipped": lambda c: c.__setitem__("root", _flip(c["root"], 31)),
        "entry added": lambda c: c["entries"].append([c["size"] - 1, "00" * 32]),
    }
    if n:
        out["count raised"] = lambda c: c.__setitem__("records", _flip(c["records"], 39))
        out["chain flipped"] = lambda c: c.__setitem__("records", _flip(c["records"], 71))
        out["record emptied"] = lambda c: c.__setitem__(
            "records", (recs[:32] + bytes(8) + recs[40:]).hex()
        )
        out["record repeated"] = lambda c: c.__setitem__("records", (recs[:72] + recs).hex())
    if n > 1:
        out["records swapped"] = lambda c: c.__setitem__(
            "records", (recs[72:144] + recs[:72] + recs[144:]).hex()
        )
    if case["entries"]:
        out["entry left out"] = lambda c: c["entries"].pop(len(c["entries"]) // 2)
        out["leaf hash flipped"] = lambda c: c["entries"][0].__setitem__(
            1, _flip(c["entries"][0][1], 0)
        )
    if len(case["entries"]) > 1:
        out["entries swapped"] = lambda c: c["entries"].insert(0, c["entries"].pop(1))
    if older is not None and older["records"] != case["records"]:
        out["older proof"] = lambda c: c.update(records=older["records"], path=older["path"])
    return out


def build() -> Json:
    leaves = log()
    builder = IndexBuilder()
    roots: dict[int, bytes] = {}
    proofs: dict[tuple[str, str, int], Json] = {}
    keys = [("subject", s) for s in [*SUBJECTS, "nobody"]] + [
        ("deployment", d) for d in [*DEPLOYMENTS, "dep_none"]
    ]
    for i, data in enumerate(leaves):
        builder.add_leaf(i, data)
        if builder.size in SIZES:
            roots[builder.size] = builder.root()
        if builder.size in PROVEN_AT:
            tree = builder.tree()
            for kind, value in keys:
                key = key_hash(kind, value)
                proof = index_proof(key, builder.records(bucket_of(key)), tree)
                name = f"{kind} {value} at size {builder.size}"
                proofs[(kind, value, builder.size)] = _case(
                    name,
                    kind,
                    value,
                    builder.size,
                    proof,
                    roots[builder.size],
                    _entries(leaves, key, builder.size),
                )
    invalid: list[Json] = []
    for (kind, value, size), case in proofs.items():
        if (kind, value) not in MUTATED:
            continue
        older = proofs.get((kind, value, PROVEN_AT[0])) if size != PROVEN_AT[0] else None
        for what, mutate in _mutations(case, older).items():
            bad = {
                **case,
                "path": list(case["path"]),
                "entries": [list(e) for e in case["entries"]],
            }
            mutate(bad)
            bad["id"] = f"{case['id']}: {what}"
            bad["error"] = _error_of(bad)
            invalid.append(bad)
    return {
        "description": "Verifiable-index completeness proofs generated by facegate "
        "(tests/vectors/generate_index.py).",
        "hashing": "key = SHA-256(0x10 || 0x01 subject | 0x02 deployment || UTF-8 value); chain "
        "starts at 32 zero bytes, then SHA-256(0x11 || chain || uint64be(index) || leaf hash); "
        "bucket = 72-byte records (key, uint64be count > 0, chain) strictly sorted by key, hashed "
        "SHA-256(0x12 || records); node = SHA-256(0x13 || left || right); a key's bucket is the "
        "first 16 bits of its hash; the root is 16 levels above the buckets.",
        "usage": "Each valid case: fold the bucket hash up the path (a sibling goes left when "
        "the bucket number's bit at that level is 1) to 'root'; the key's record (or count 0 if "
        "absent) must match the chain over 'entries' (index, leaf hash). Every invalid case "
        "must fail; 'error' names the exception facegate's checker raises.",
        "log": [d.decode() for d in leaves],
        "roots": [{"size": n, "root": roots[n].hex()} for n in SIZES],
        "valid": list(proofs.values()),
        "invalid": invalid,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check the file is current")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"stale: {OUT.name}; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
