"""The ledger over HTTP: scoped to each operator, and public as C2SP tlog-tiles."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lawful import consent, live
from sqlalchemy import update

from facegate.api.app import create_app
from facegate.gate import Gate
from facegate.ledger.events import Event, Kind
from facegate.storage import tables as t


@dataclass
class Tenant:
    operator: str
    auth: dict[str, str]
    deployment: str
    pseudonym: str


def _tenant(gate: Gate, name: str, ref: str) -> Tenant:
    """Another operator on the installation, acting through its own admin's key."""
    made = gate.create_operator(name, contact=f"dpo@{name.lower()}.test")
    admin = gate.acting_as(made.api_key.key)
    admin.set_operator(dpo=f"DPO of {name}, dpo@{name.lower()}.test")
    dep = live(admin, name=f"{name} lobby").id
    receipt = consent(admin, dep, ref)
    pseudonym = str(receipt.receipt["receipt"]["piiPrincipalId"])  # type: ignore[index]
    auth = {"Authorization": f"Bearer {made.api_key.key}"}
    return Tenant(made.principal.operator_id, auth, dep, pseudonym)


@pytest.fixture
def two(gate: Gate) -> Iterator[tuple[TestClient, Tenant, Tenant]]:
    a = _tenant(gate, "Acme", "alice-ref")
    b = _tenant(gate, "Bolt", "bruno-ref")
    with TestClient(create_app(gate)) as client:
        yield client, a, b


def _entries_of(gate: Gate, operator: str) -> list[int]:
    size = gate.verify_ledger().size
    return [i for i in range(size) if json.loads(gate.ledger_entry(i).data)["operator"] == operator]


def test_an_operator_reads_only_its_own_entries(
    gate: Gate, two: tuple[TestClient, Tenant, Tenant]
) -> None:
    client, a, b = two
    mine, theirs = _entries_of(gate, a.operator), _entries_of(gate, b.operator)
    r = client.get(f"/v1/ledger/entries/{mine[-1]}", headers=a.auth)
    assert r.status_code == 200 and r.json()["index"] == mine[-1]
    for index in (theirs[-1], 10**6):
        r = client.get(f"/v1/ledger/entries/{index}", headers=a.auth)
        assert r.status_code == 404
        assert r.json()["message"] == f"no ledger entry {index} is visible to this API key"
        for secret in (b.deployment, b.pseudonym, b.operator, "Bolt"):
            assert secret not in r.text


def test_evidence_of_another_operator_is_not_found_and_names_nothing(
    two: tuple[TestClient, Tenant, Tenant],
) -> None:
    client, a, b = two
    r = client.get("/v1/ledger/evidence", params={"pseudonym": a.pseudonym}, headers=a.auth)
    assert r.status_code == 200 and r.json()["completeness"]["key"] == {"subject": a.pseudonym}
    for params in ({"deployment": b.deployment}, {"pseudonym": b.pseudonym}):
        r = client.get("/v1/ledger/evidence", params=params, headers=a.auth)
        assert r.status_code == 404
        assert b.operator not in r.text and "Bolt" not in r.text
    r = client.get("/v1/ledger/evidence", params={"pseudonym": b.pseudonym}, headers=a.auth)
    assert b.deployment not in r.text


def test_a_failed_verification_keeps_the_values_on_the_server(
    gate: Gate, two: tuple[TestClient, Tenant, Tenant]
) -> None:
    client, a, b = two
    index = _entries_of(gate, b.operator)[-1]
    with gate.db.transaction() as s:
        s.execute(update(t.LedgerEntry).where(t.LedgerEntry.idx == index).values(subject="x"))
    r = client.get("/v1/ledger/verify", headers=a.auth)
    body = r.json()
    assert r.status_code == 200 and not body["ok"] and body["first_bad_index"] == index
    assert b.pseudonym not in r.text and "'x'" not in r.text
    assert b.pseudonym in gate.verify_ledger().problem  # the server's own check names it


# --- C2SP tlog-tiles ---------------------------------------------------------------------


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash over leaf hashes, written out independently."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


def _path(n: int) -> str:
    groups = [f"{n % 1000:03d}"]
    while n >= 1000:
        n //= 1000
        groups.insert(0, f"x{n % 1000:03d}")
    return "/".join(groups)


def _fill(gate: Gate, n: int) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with gate.db.transaction() as s:
        gate.core.record(
            s,
            *[Event(Kind.VERIFIED, at, deployment="dep_x", subject=f"{i:032x}") for i in range(n)],
        )


def _leaf_hashes(client: TestClient, size: int) -> list[bytes]:
    """Every leaf hash of a tree of ``size``, from level-0 tiles only, checked against the
    entry bundles and (for full tiles) against the level-1 tile."""
    hashes: list[bytes] = []
    for n in range((size + 255) // 256):
        width = min(256, size - 256 * n)
        suffix = "" if width == 256 else f".p/{width}"
        tile = client.get(f"/tile/0/{_path(n)}{suffix}")
        assert tile.status_code == 200 and len(tile.content) == 32 * width
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        level0 = [tile.content[i : i + 32] for i in range(0, len(tile.content), 32)]
        bundle = client.get(f"/tile/entries/{_path(n)}{suffix}").content
        entries, pos = [], 0
        while pos < len(bundle):
            length = int.from_bytes(bundle[pos : pos + 2], "big")
            entries.append(bundle[pos + 2 : pos + 2 + length])
            pos += 2 + length
        assert [hashlib.sha256(b"\x00" + e).digest() for e in entries] == level0
        hashes += level0
    return hashes


def test_tiles_recompute_the_signed_root(
    gate: Gate, two: tuple[TestClient, Tenant, Tenant]
) -> None:
    client, a, _ = two
    _fill(gate, 300)
    note = client.get("/checkpoint")
    assert note.status_code == 200 and note.headers["content-type"].startswith("text/plain")
    _origin, size_text, root_b64, *_ = note.text.split("\n\n")[0].split("\n")
    size = int(size_text)
    assert size > 256 and note.text == gate.checkpoint()
    hashes = _leaf_hashes(client, size)
    assert _mth(hashes) == base64.b64decode(root_b64)
    level1 = client.get("/tile/1/000.p/1").content
    assert level1 == _mth(hashes[:256])
    # The public tiles name people by pseudonym only: never by the operator's reference.
    everything = b"".join(
        client.get(f"/tile/entries/{_path(n)}" + ("" if n == 0 else f".p/{size - 256}")).content
        for n in range(2)
    )
    for private in (b"alice-ref", b"bruno-ref"):
        assert private not in everything
    assert a.pseudonym.encode() in everything  # pseudonyms are what the log is about


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/001",  # not there yet
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/0",
        "/tile/0/x000/000",
        "/tile/00/000",
        "/tile/64/000",
        "/tile/entries/000.p/01",
        "/tile/foo/000",
        "/tile/0/000.p/9999999",
    ],
)
def test_tiles_that_do_not_exist_are_404(two: tuple[TestClient, Tenant, Tenant], path: str) -> None:
    client, _, _ = two
    r = client.get(path)
    assert r.status_code == 404, (path, r.text)
