"""The regulator's home, registry, monitor rules, orders and receipts (in process)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from regulator_support import T0, Clock, FakeLog, new_regulator, push_fake

from facegate.errors import ConfigError, Conflict, Forbidden, InvalidInput, NotFound
from facegate.ledger.checkpoint import Signer
from facegate.regulator.home import init_home
from facegate.regulator.node import Regulator
from facegate.regulator.protocol import ORDER_HEADER, RECEIPT_HEADER, open_document
from facegate.regulator.registry import sign_registration


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reg(tmp_path: Path, clock: Clock) -> Regulator:
    regulator, _ = new_regulator(tmp_path / "reg", clock=clock)
    return regulator


# --- home ------------------------------------------------------------------------------------


def test_home_is_private_and_never_silently_remade(tmp_path: Path) -> None:
    home = tmp_path / "reg"
    created = init_home(home, name="reg.test/w")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for f in home.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    # The keys are in the database only wrapped: the seed never appears in clear.
    with Regulator.open(home) as reg:
        seed = reg.core.witness.private_key.private_bytes_raw()
        assert reg.witness_key == created.witness_key
    assert seed not in (home / "regulator.db").read_bytes()
    with pytest.raises(ConfigError, match="already holds a regulator"):
        init_home(home, name="reg.test/w")
    (home / "master.key").rename(tmp_path / "elsewhere.key")
    with pytest.raises(ConfigError, match="master key is missing"):
        Regulator.open(home)
    assert not (home / "master.key").exists()  # nothing was regenerated
    other = tmp_path / "other"
    init_home(other, name="reg.test/w")
    os.replace(other / "master.key", home / "master.key")
    with pytest.raises(ConfigError, match="does not open"):
        Regulator.open(home)


def test_missing_home_or_database_is_loud(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no regulator"):
        Regulator.open(tmp_path / "nothing")
    init_home(tmp_path / "reg", name="reg.test/w")
    db = tmp_path / "reg" / "regulator.db"
    db.unlink()
    with pytest.raises(ConfigError, match="missing"):
        Regulator.open(tmp_path / "reg")
    assert not db.exists()  # opening made nothing
    db.write_bytes(b"")
    with pytest.raises(ConfigError, match="empty"):
        Regulator.open(tmp_path / "reg")


# --- registry --------------------------------------------------------------------------------


def _request(key: Ed25519PrivateKey, name: str, **over: str) -> dict[str, object]:
    signer = Signer(name, key)
    fields = {
        "origin": name,
        "vkey": signer.verifier().verifier_key(),
        "operator_name": "Acme Estates",
        "contact": "dpo@acme.test",
        "operator_url": "http://acme.test",
        "regulator_url": "http://reg.test",
        "requested_at": T0.isoformat(),
    } | over
    return sign_registration(key, **fields)


def test_registration_is_signed_by_the_key_it_registers(reg: Regulator) -> None:
    key = Ed25519PrivateKey.generate()
    info = reg.register(_request(key, "acme.test/ledger"))
    assert info.state == "pending" and info.operator_name == "Acme Estates"
    with pytest.raises(Forbidden):
        reg.register(_request(key, "acme.test/ledger") | {"signature": "AAAA"})
    stranger = Ed25519PrivateKey.generate()
    forged = _request(stranger, "acme.test/ledger")
    forged["request"] = _request(key, "acme.test/ledger")["request"]  # another key signed it
    with pytest.raises(Forbidden):
        reg.register(forged)
    with pytest.raises(InvalidInput, match="origin"):
        reg.register(_request(key, "acme.test/ledger", origin="other.test/ledger"))
    with pytest.raises(InvalidInput, match="day old"):
        reg.register(_request(key, "late.test/ledger", requested_at="2026-05-01T00:00:00+00:00"))
    with pytest.raises(Conflict, match="another key"):
        reg.register(_request(stranger, "acme.test/ledger"))
    assert reg.approve("acme.test/ledger").state == "active"
    assert reg.set_state("acme.test/ledger", "suspended").state == "suspended"
    assert reg.set_state("acme.test/ledger", "retired").state == "retired"
    with pytest.raises(Conflict):
        reg.set_state("acme.test/ledger", "active")
    with pytest.raises(NotFound):
        reg.approve("nobody.test/ledger")


def test_a_retired_or_pending_log_is_not_witnessed(reg: Regulator) -> None:
    log = FakeLog()
    log.add("operator.created")
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    reg.register(_request(key, log.origin))
    from facegate.regulator.common import WitnessRefused

    with pytest.raises(WitnessRefused) as pending:
        push_fake(reg, log, 0)
    assert pending.value.status == 404
    reg.approve(log.origin)
    push_fake(reg, log, 0)
    reg.set_state(log.origin, "retired")
    log.add("operator.created")
    with pytest.raises(WitnessRefused) as retired:
        push_fake(reg, log, 1)
    assert retired.value.status == 404


# --- monitor ---------------------------------------------------------------------------------


def test_monitor_rules_over_the_stream(reg: Regulator, clock: Clock) -> None:
    log = FakeLog()
    reg.approve(log.origin, vkey=log.vkey, filing_threshold=2, push_interval_s=3600)
    log.add("deployment.created", deployment="dep_v", capabilities=["verify"], retention_days=30)
    log.add("consent.given", deployment="dep_v", subject="a")
    log.add("enroll", deployment="dep_v", subject="a")  # lawful
    log.add("enroll", deployment="dep_v", subject="b")  # no consent
    log.add("identify", deployment="dep_v", subject="a")  # not declared
    log.add("verify", deployment="dep_x", subject="a")  # deployment never declared
    log.add("consent.withdrawn", deployment="dep_v", subject="a", key_destroyed=True)
    log.add("verify", deployment="dep_v", subject="a")  # after withdrawal
    push_fake(reg, log, 0)
    rules = sorted((f.rule, f.entry_index) for f in reg.findings(log.origin))
    assert rules == [
        ("capability_undeclared", 4),
        ("capability_undeclared", 5),
        ("consent_missing", 3),
        ("consent_missing", 5),
        ("consent_missing", 7),
    ]
    assert reg.sweep() == 0  # nothing is late yet
    # Thirty-one days on: b is still held past retention; 2 people passed the filing
    # threshold with no filing.opened; no checkpoint for longer than the agreed hour.
    clock.advance(days=31)
    reg.sweep()
    late = {f.rule for f in reg.findings(log.origin, open_only=True)}
    assert {"retention_overdue", "filing_missing", "stale"} <= late
    (view,) = reg.risk()
    assert view["findings"]["by_rule"] == {
        "capability_undeclared": 2,
        "consent_missing": 3,
        "retention_overdue": 1,
        "filing_missing": 1,
        "stale": 1,
    }
    # 5 breaches (10 each), 2 overdue (5 each), a stale-witness warning (1) and staleness (20)
    assert (view["score"], view["level"]) == (81, "amber")
    assert view["witness"]["stale"] and view["people"]["held"] == 1
    assert view["counts"]["2026-06-01"]["enroll"] == 2


def test_announced_deadlines_become_overdue_obligations(reg: Regulator, clock: Clock) -> None:
    log = FakeLog()
    reg.approve(log.origin, vkey=log.vkey)
    due = (T0.replace(hour=9)).isoformat()
    log.add("incident.opened", incident_id="inc_1", due={"EU-GDPR-33/regulator": due})
    push_fake(reg, log, 0)
    clock.advance(hours=2)
    reg.sweep()
    (view,) = reg.risk()
    assert [o["key"] for o in view["overdue"]] == ["incident:inc_1:EU-GDPR-33/regulator"]
    reg.receive(log.origin, what="incident", ref="inc_1", document={"incident": {"id": "inc_1"}})
    assert reg.risk()[0]["overdue"] == []


# --- orders and receipts ---------------------------------------------------------------------


def test_orders_are_numbered_and_signed_by_the_authority(reg: Regulator) -> None:
    log = FakeLog()
    reg.approve(log.origin, vkey=log.vkey)
    first = reg.issue_order(log.origin, kind="stop", deployment_id="dep_1", reason="no PIA")
    second = reg.issue_order(log.origin, kind="resume", deployment_id="dep_1", reason="fixed")
    assert (first["seq"], second["seq"]) == (1, 2)
    doc = open_document(first["note"], ORDER_HEADER, reg.authority_key)
    assert doc["kind"] == "stop" and doc["origin"] == log.origin
    with pytest.raises(InvalidInput):
        open_document(first["note"].replace("no PIA", "no pia"), ORDER_HEADER, reg.authority_key)
    with pytest.raises(InvalidInput):  # the witness key must not pass for the authority
        open_document(first["note"], ORDER_HEADER, reg.witness_key)
    with pytest.raises(InvalidInput):  # an order is not a receipt
        open_document(first["note"], RECEIPT_HEADER, reg.authority_key)
    assert [o["seq"] for o in reg.orders_after(log.origin, 1)] == [2]
    for bad in ({"kind": "stop"}, {"kind": "rectify", "deployment_id": "d"}, {"kind": "ban"}):
        with pytest.raises(InvalidInput):
            reg.issue_order(log.origin, reason="x", **bad)  # type: ignore[arg-type]
    receipt = reg.receive(log.origin, what="order_ack", ref=first["id"], document={"ok": 1})
    doc = open_document(receipt.note, RECEIPT_HEADER, reg.authority_key)
    assert doc["ref"] == first["id"] and doc["document_sha256"] == receipt.document_sha256
    with pytest.raises(NotFound):
        reg.receive(log.origin, what="order_ack", ref="ord_nope", document={})


# --- schema and command line -----------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_regulator_migrations_match_its_tables(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from facegate.regulator.home import migrate
    from facegate.regulator.tables import RegBase
    from facegate.storage.db import make_engine

    url = (
        request.getfixturevalue("pg_url")
        if backend == "postgres"
        else (f"sqlite:///{tmp_path / 'r.db'}")
    )
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": "reg_alembic_version"})
        diff = compare_metadata(ctx, RegBase.metadata)
    engine.dispose()
    assert diff == []


def test_the_regulator_command_line(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from facegate.cli.main import app

    cli = CliRunner()
    home = str(tmp_path / "reg")

    def run(*args: str, code: int = 0) -> object:
        result = cli.invoke(app, ["regulator", *args, "--home", home, "--json"])
        assert result.exit_code == code, result.output
        return json.loads(result.output) if result.output.strip() else None

    made = run("init", "--name", "reg.cli/witness")
    assert isinstance(made, dict) and made["admin_token"]
    keys = run("key")
    assert isinstance(keys, dict) and keys["witness_key"] == made["witness_key"]
    log = FakeLog()
    assert run("approve", "--origin", log.origin, "--vkey", log.vkey)["state"] == "active"  # type: ignore[index]
    order = run(
        "order",
        "--origin",
        log.origin,
        "--kind",
        "stop",
        "--deployment",
        "dep_1",
        "--reason",
        "no PIA",
    )
    assert isinstance(order, dict) and order["seq"] == 1
    run("order", "--origin", log.origin, "--kind", "rectify", "--reason", "x", code=3)
    assert run("state", "--origin", log.origin, "--set", "suspended")["state"] == "suspended"  # type: ignore[index]
    assert [x["origin"] for x in run("logs")] == [log.origin]  # type: ignore[union-attr]
    assert run("findings", "--origin", log.origin) == []
    (view,) = run("risk")  # type: ignore[misc]
    assert view["origin"] == log.origin and view["state"] == "suspended"
    run("init", "--name", "reg.cli/witness", code=1)  # never over an existing regulator
    result = cli.invoke(app, ["regulator", "key", "--home", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no regulator" in result.output
