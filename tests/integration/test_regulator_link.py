"""The operator's link to a regulator, in one process: pushes, alarms, orders, deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lawful import consent, live, sign
from regulator_support import (
    Clock,
    backup,
    deployment,
    details_of,
    kinds,
    new_regulator,
    restore,
    rewrite_history,
)

from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.ledger.checkpoint import CosignatureVerifier, verify_cosignatures
from facegate.ledger.evidence_findings import BundleInvalid
from facegate.ledger.evidence_verify import verify_bundle
from facegate.regulator.app import create_regulator_app
from facegate.regulator.link import (
    StoppedByOrder,
    check_orders,
    orders_in_force,
    register_link,
)
from facegate.regulator.link_client import RegulatorClient
from facegate.regulator.link_deliver import deliver_filing, deliver_incident
from facegate.regulator.link_orders import fetch_orders
from facegate.regulator.link_push import push_checkpoint
from facegate.regulator.node import Regulator
from facegate.regulator.require import require_cosigners
from facegate.supervision import filings, incidents

URL = "http://testserver"


@dataclass
class Linked:
    gate: Gate
    reg: Regulator
    client: RegulatorClient
    link_id: str

    @property
    def origin(self) -> str:
        return self.gate.core.ledger.origin

    def push(self) -> str:
        return push_checkpoint(self.gate.core, self.link_id, self.client, force=True).outcome


@pytest.fixture
def linked(tmp_path: Path, sqlite_gate: Gate) -> Iterator[Linked]:
    reg, _ = new_regulator(tmp_path / "reg", clock=Clock(datetime.now(UTC)))
    with reg, TestClient(create_regulator_app(reg)) as http:
        core = sqlite_gate.core
        client = RegulatorClient(
            URL, origin=core.ledger.origin, signing_key=core.ledger.signing_key, client=http
        )
        done = register_link(
            core,
            URL,
            operator_name="Acme",
            contact="dpo@acme.test",
            operator_url="http://acme.test",
            witness_key=reg.witness_key,
            client=client,
        )
        assert done["state"] == "pending"
        assert client.add_checkpoint(0, [], sqlite_gate.checkpoint()).status == 404
        reg.approve(core.ledger.origin)
        yield Linked(sqlite_gate, reg, client, done["link_id"])


def test_pushes_are_cosigned_and_bundles_carry_them(linked: Linked) -> None:
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    consent(gate, dep, "a")
    assert linked.push() == "cosigned"
    size = gate.inclusion_proof(0).size
    assert reg.log(linked.origin).size == size
    assert verify_cosignatures(
        gate.checkpoint_at(size), [CosignatureVerifier.from_key(reg.witness_key)]
    )
    consent(gate, dep, "b")
    assert linked.push() == "cosigned"  # from the size cosigned, with a consistency proof
    bundle = gate.export_evidence(deployment_id=dep)
    verdict = verify_bundle(bundle, log_key=gate.ledger_key(), witness_keys=[reg.witness_key])
    require_cosigners(verdict, [reg.witness_key])
    other = Regulator.__new__(Regulator)  # a witness nobody asked: its key never cosigned
    from facegate.ledger.checkpoint import Cosigner

    stranger = Cosigner.from_seed("reg.test/w", b"\x01" * 32).verifier_key()
    del other
    with pytest.raises(BundleInvalid, match="required witness"):
        require_cosigners(
            verify_bundle(bundle, log_key=gate.ledger_key(), witness_keys=[stranger]), [stranger]
        )


def test_a_fork_raises_the_alarm_on_both_sides_within_one_push(linked: Linked) -> None:
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    consent(gate, dep, "a")
    assert linked.push() == "cosigned"
    rewrite_history(gate, 3)
    consent(gate, dep, "b")
    assert linked.push() == "alarm"
    assert linked.push() == "alarm"  # still refused, but ledgered once
    (alarm,) = details_of(gate, "witness.alarm")
    assert alarm["what"] == "refused" and "does not verify" in alarm["message"]
    assert [f.rule for f in reg.findings(linked.origin, open_only=True)] == ["fork"]


def test_a_rollback_raises_the_alarm_on_both_sides_within_one_push(
    linked: Linked, tmp_path: Path
) -> None:
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    consent(gate, dep, "a")
    assert linked.push() == "cosigned"
    saved = backup(gate, tmp_path / "backup.db")
    kept = reg.log(linked.origin).size
    for ref in ("b", "c"):
        consent(gate, dep, ref)
    assert linked.push() == "cosigned"
    cosigned = reg.log(linked.origin).size
    restore(gate, saved)  # the operator restores last night's backup: the log shrinks
    assert linked.push() == "alarm"
    (alarm,) = details_of(gate, "witness.alarm")
    assert (alarm["what"], alarm["witness_size"], alarm["size"]) == ("rollback", cosigned, kept)
    (finding,) = reg.findings(linked.origin)
    assert finding.rule == "rollback" and f"size {cosigned} became {kept}" in finding.message


def test_orders_are_fetched_ledgered_enforced_and_acknowledged(linked: Linked) -> None:
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    stop = reg.issue_order(linked.origin, kind="stop", deployment_id=dep, reason="no PIA filed")
    (taken,) = fetch_orders(gate.core, client=linked.client)
    assert taken["id"] == stop["id"]
    with gate.db.read() as s:
        with pytest.raises(StoppedByOrder) as stopped:
            check_orders(s, dep)
        assert [o.kind for o in orders_in_force(s, dep)] == ["stop"]
        check_orders(s, "dep_other")  # another deployment is not stopped
    assert isinstance(stopped.value, PolicyDenied)
    assert stopped.value.rule_id == f"ORDER:{stop['id']}" and "no PIA filed" in str(stopped.value)
    assert kinds(gate)[-2:] == ["regulator.order", "regulator.receipt"]
    (ack,) = details_of(gate, "regulator.receipt")
    assert (ack["what"], ack["ref"]) == ("order_ack", stop["id"])
    assert reg.orders_after(linked.origin)[0]["acknowledged"]
    assert fetch_orders(gate.core, client=linked.client) == []  # nothing new
    reg.issue_order(linked.origin, kind="resume", deployment_id=dep, reason="PIA filed")
    fetch_orders(gate.core, client=linked.client)
    with gate.db.read() as s:
        check_orders(s, dep)
        assert orders_in_force(s, dep) == []


def test_an_order_signed_by_another_key_is_refused(linked: Linked, tmp_path: Path) -> None:
    gate, reg = linked.gate, linked.reg
    impostor, _ = new_regulator(tmp_path / "impostor", clock=Clock(datetime.now(UTC)))
    with impostor:
        impostor.approve(linked.origin, vkey=gate.ledger_key())
        forged = impostor.issue_order(linked.origin, kind="stop", deployment_id="d", reason="x")
    from facegate.errors import InvalidInput
    from facegate.regulator.link_orders import _take_order

    with pytest.raises(InvalidInput, match="authority"):
        _take_order(gate.core, linked.link_id, forged["note"])
    assert "regulator.order" not in kinds(gate)
    del reg


def test_the_gate_refuses_to_enroll_under_a_stop_order(linked: Linked, photo) -> None:  # type: ignore[no-untyped-def]
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    consent(gate, dep, "a")
    stop = reg.issue_order(linked.origin, kind="stop", deployment_id=dep, reason="audit")
    fetch_orders(gate.core, client=linked.client)
    with pytest.raises(PolicyDenied) as refused:
        gate.enroll(dep, "a", photo("fixtures/obama.jpg"))
    assert refused.value.rule_id == f"ORDER:{stop['id']}"
    reg.issue_order(linked.origin, kind="resume", deployment_id=dep, reason="audit done")
    fetch_orders(gate.core, client=linked.client)
    assert gate.enroll(dep, "a", photo("fixtures/obama.jpg")).template_id


def test_a_signed_off_change_of_capabilities_reaches_the_monitor(linked: Linked, photo) -> None:  # type: ignore[no-untyped-def]
    gate, reg = linked.gate, linked.reg
    dep = live(gate, capabilities=["verify"]).id
    gate.change_deployment(dep, capabilities=["verify", "identify"])
    version = sign(gate, dep).notice_version
    consent(gate, dep, "a", notice_version=version)
    gate.enroll(dep, "a", photo("fixtures/obama.jpg"))
    assert gate.identify(dep, photo("fixtures/obama3.jpg")).decision == "match"
    assert linked.push() == "cosigned"
    assert reg.findings(linked.origin) == []  # identify was declared before it was used


def test_filing_and_incident_arrive_with_receipts(linked: Linked, photo) -> None:  # type: ignore[no-untyped-def]
    gate, reg = linked.gate, linked.reg
    dep = deployment(gate)
    consent(gate, dep, "a")
    gate.enroll(dep, "a", photo("fixtures/obama.jpg"))
    opened = filings.check_filing(gate.core, threshold=1)
    assert opened.pending == "file"
    filed = deliver_filing(gate.core, threshold=1, client=linked.client)
    assert (
        filed["filing"]["pending"] is None and filed["filing"]["reference"] == filed["receipt_id"]
    )
    inc = incidents.open_incident(
        gate.core,
        discovered_at=datetime.now(UTC),
        description="a laptop was stolen",
        people_estimate=1,
    )
    notified = deliver_incident(gate.core, inc.id, client=linked.client)
    states = {
        o.rule_id: o.state
        for o in incidents.get_incident(gate.core, inc.id).obligations
        if o.audience == "regulator"
    }
    assert states == {"CN-PIPL-57": "done"}
    receipts = details_of(gate, "regulator.receipt")
    assert [(r["what"], r["receipt_id"]) for r in receipts] == [
        ("filing", filed["receipt_id"]),
        ("incident", notified["receipt_id"]),
    ]
    with reg.core.db.read() as s:
        from sqlalchemy import select

        from facegate.regulator.tables import RegInbox

        inbox = sorted((r.what, r.id) for r in s.scalars(select(RegInbox)))
    assert inbox == sorted([("filing", filed["receipt_id"]), ("incident", notified["receipt_id"])])


def test_the_mirror_fetches_missing_entries_from_the_operators_tiles(
    tmp_path: Path, sqlite_gate: Gate
) -> None:
    """An operator whose link pushes no entries is still mirrored: the witness reads the
    entry bundles of its public tlog-tiles before cosigning."""
    from facegate.api.app import create_app
    from facegate.regulator.protocol import render_add_checkpoint
    from facegate.regulator.registry import sign_registration

    gate = sqlite_gate
    dep = deployment(gate)
    for ref in ("a", "b", "c"):
        consent(gate, dep, ref)
    reg, _ = new_regulator(tmp_path / "reg", clock=Clock(datetime.now(UTC)))
    with reg, TestClient(create_app(gate)) as operator_http:
        size = gate.inclusion_proof(0).size  # after the service's start-up self-check
        ledger = gate.core.ledger
        reg.register(
            sign_registration(
                ledger.signing_key,
                origin=ledger.origin,
                vkey=gate.ledger_key(),
                operator_name="Acme",
                contact="-",
                operator_url=str(operator_http.base_url),
                regulator_url="-",
                requested_at=datetime.now(UTC).isoformat(),
            )
        )
        reg.approve(ledger.origin)
        reg.core.http = operator_http
        cosigned = reg.add_checkpoint(render_add_checkpoint(0, [], gate.checkpoint()))
    assert cosigned.size == size and reg.findings(ledger.origin) == []
