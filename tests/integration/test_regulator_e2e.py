"""Two real processes on loopback: ``facegate regulator serve`` and ``facegate serve``.

The operator's service pushes its checkpoints and fetches orders by itself (its background
link); the test acts on the operator's installation in-process (same SQLite home) where an
operator or an attacker would, and reads both sides' records.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from lawful import consent
from regulator_support import (
    FakeLog,
    backup,
    deployment,
    details_of,
    kinds,
    restore,
    rewrite_history,
)

from facegate.config import LedgerSettings, Settings
from facegate.gate import Gate
from facegate.ledger.checkpoint import Cosigner
from facegate.ledger.head_lines import head_extensions
from facegate.recognition import FaceEngine
from facegate.regulator.link import StoppedByOrder, check_orders, orders_in_force, register_link
from facegate.regulator.link_client import RegulatorClient
from facegate.regulator.link_deliver import deliver_filing, deliver_incident
from facegate.supervision import filings, incidents

pytestmark = pytest.mark.slow

#: a bug in src, reported to the lead: ``facegate serve`` warms the ONNX engine, whose model
SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p),
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy (no timing is asserted)."""
    end = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            self.proc.kill()


def serve(args: list[str], log: Path, env: dict[str, str]) -> Service:
    port = _port()
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "facegate.cli", *args, "--port", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"{args[0]} exited: {log.read_text()[-3000:]}")
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(f"{' '.join(args[:2])} to answer", up, timeout=120)
    return Service(proc, url, log)


@dataclass
class RegulatorProcess:
    service: Service
    token: str
    witness_key: str

    @property
    def url(self) -> str:
        return self.service.url

    def get(self, path: str, **params: str) -> Any:
        r = httpx.get(
            self.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, doc: dict[str, Any]) -> Any:
        r = httpx.post(
            self.url + path, json=doc, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )
        assert r.status_code == 200, r.text
        return r.json()

    def size(self, origin: str) -> int:
        return next((x["size"] for x in self.get("/v1/logs") if x["origin"] == origin), -1)

    def rules(self, origin: str) -> list[str]:
        return sorted(f["rule"] for f in self.get("/v1/findings", origin=origin))


@pytest.fixture(scope="module")
def regulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegulatorProcess]:
    home = tmp_path_factory.mktemp("regulator") / "home"
    init = subprocess.run(
        [
            sys.executable,
            "-m",
            "facegate.cli",
            "regulator",
            "init",
            "--home",
            str(home),
            "--name",
            "regulator.e2e/witness",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr + init.stdout
    made = json.loads(init.stdout)
    key = subprocess.run(
        [sys.executable, "-m", "facegate.cli", "regulator", "key", "--home", str(home)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=True,
    ).stdout.strip()
    assert key == made["witness_key"]
    service = serve(
        ["regulator", "serve", "--home", str(home), "--sweep-seconds", "1"],
        home.parent / "regulator.log",
        ENV,
    )
    yield RegulatorProcess(service, made["admin_token"], made["witness_key"])
    service.stop()


@dataclass
class Operator:
    gate: Gate
    origin: str
    service: Service

    def kinds(self) -> list[str]:
        return kinds(self.gate)


@contextmanager
def linked_operator(
    regulator: RegulatorProcess, root: Path, face_engine: FaceEngine, name: str
) -> Iterator[Operator]:
    """An operator home linked to the regulator (approved over HTTP), served by its own
    ``facegate serve`` process; the test's Gate opens the same home."""
    origin = f"{name}.e2e/ledger"
    home = root / "operator"
    settings = Settings(home=home, ledger=LedgerSettings(origin=origin))
    # a new home is made only on request (create=True) where the Gate has that switch
    create = {"create": True} if "create" in inspect.signature(Gate.open).parameters else {}
    gate = Gate.open(settings=settings, engine=face_engine, **create)  # type: ignore[arg-type]
    register_link(
        gate.core,
        regulator.url,
        operator_name="Acme",
        contact="dpo@acme.test",
        operator_url="-",
        witness_key=regulator.witness_key,
        push_interval_s=2,
        poll_s=0.2,
    )
    assert regulator.post("/v1/logs/approve", {"origin": origin})["state"] == "active"
    env = {**ENV, "FACEGATE_LEDGER__ORIGIN": origin}
    service = serve(["serve", "--home", str(home)], root / "operator.log", env)
    try:
        wait_for("the first cosignature", lambda: regulator.size(origin) > 0)
        yield Operator(gate, origin, service)
    finally:
        service.stop()
        gate.close()


@pytest.fixture
def operator(
    regulator: RegulatorProcess, tmp_path: Path, face_engine: FaceEngine
) -> Iterator[Operator]:
    """An operator of its own, for a test that breaks its log."""
    with linked_operator(regulator, tmp_path, face_engine, tmp_path.name[-8:]) as op:
        yield op


@pytest.fixture(scope="module")
def shared_operator(
    regulator: RegulatorProcess, tmp_path_factory: pytest.TempPathFactory, face_engine: FaceEngine
) -> Iterator[Operator]:
    """One operator for the tests that leave its log sound (one service start, not three)."""
    with linked_operator(regulator, tmp_path_factory.mktemp("shared"), face_engine, "shared") as op:
        yield op


def _cosigned(regulator: RegulatorProcess, op: Operator) -> Callable[[], bool]:
    return lambda: regulator.size(op.origin) == op.gate.inclusion_proof(0).size


def test_a_fork_is_refused_and_alarms_both_sides_within_one_push(
    regulator: RegulatorProcess, operator: Operator
) -> None:
    dep = deployment(operator.gate)
    consent(operator.gate, dep, "a")
    wait_for("the witness to cosign", _cosigned(regulator, operator))
    rewrite_history(operator.gate, 2)  # the key holder rewrites an event and re-signs
    consent(operator.gate, dep, "b")
    size = len(operator.kinds())
    wait_for("the operator's alarm", lambda: "witness.alarm" in operator.kinds())
    assert operator.kinds()[size] == "witness.alarm"  # the first push after it raised it
    assert "fork" in wait_for("the regulator's finding", lambda: regulator.rules(operator.origin))
    assert regulator.size(operator.origin) < size  # nothing after the fork was cosigned


def test_a_rollback_is_refused_and_alarms_both_sides_within_one_push(
    regulator: RegulatorProcess, operator: Operator, tmp_path: Path
) -> None:
    dep = deployment(operator.gate)
    wait_for("the witness to cosign", _cosigned(regulator, operator))
    saved = backup(operator.gate, tmp_path / "backup.db")
    kept = len(operator.kinds())
    for ref in ("a", "b"):
        consent(operator.gate, dep, ref)
    wait_for("the witness to cosign", _cosigned(regulator, operator))
    restore(operator.gate, saved)  # last night's backup: every table rolls back together
    wait_for("the operator's alarm", lambda: "witness.alarm" in operator.kinds())
    assert operator.kinds()[kept] == "witness.alarm"
    (alarm,) = details_of(operator.gate, "witness.alarm")
    assert alarm["what"] == "rollback" and alarm["size"] == kept
    assert "rollback" in wait_for("the finding", lambda: regulator.rules(operator.origin))


def test_a_withheld_entry_or_a_wrong_index_root_is_refused(regulator: RegulatorProcess) -> None:
    log = FakeLog(origin=f"fake{datetime.now(UTC).strftime('%H%M%S%f')}.e2e/ledger")
    regulator.post("/v1/logs/approve", {"origin": log.origin, "vkey": log.vkey})
    for i in range(4):
        log.add("consent.given", deployment="dep_1", subject=f"p{i}")
    with RegulatorClient(
        regulator.url, origin=log.origin, signing_key=log.signer.private_key
    ) as client:
        client.push_entries(0, log.leaves[:1])
        client.push_entries(2, log.leaves[2:])  # entry 1 withheld
        withheld = client.add_checkpoint(0, [], log.note())
        client.push_entries(1, log.leaves[1:2])
        wrong = head_extensions(index_root=log.index_root(3), prev=0)
        mismatched = client.add_checkpoint(0, [], log.note(extensions=wrong))
        cosigned = client.add_checkpoint(0, [], log.note())
    assert (withheld.status, mismatched.status, cosigned.status) == (422, 422, 200)
    assert "entry 1" in withheld.text and "index" in mismatched.text
    assert regulator.rules(log.origin) == ["index_mismatch", "withheld"]


def _stopped(op: Operator, dep: str) -> bool:
    with op.gate.db.read() as s:
        return bool(orders_in_force(s, dep))


def test_stop_and_resume_orders_reach_the_operator(
    regulator: RegulatorProcess, shared_operator: Operator
) -> None:
    dep = deployment(shared_operator.gate)
    receipts = shared_operator.kinds().count("regulator.receipt")
    stop = regulator.post(
        "/v1/orders",
        {
            "origin": shared_operator.origin,
            "kind": "stop",
            "deployment": dep,
            "reason": "no PIA on file",
        },
    )
    wait_for("the stop order to be in force", lambda: _stopped(shared_operator, dep))
    with shared_operator.gate.db.read() as s, pytest.raises(StoppedByOrder) as stopped:
        check_orders(s, dep)
    assert stopped.value.rule_id == f"ORDER:{stop['id']}"
    wait_for(
        "the acknowledgement",
        lambda: shared_operator.kinds().count("regulator.receipt") > receipts,
    )
    assert "regulator.order" in shared_operator.kinds()
    regulator.post(
        "/v1/orders",
        {
            "origin": shared_operator.origin,
            "kind": "resume",
            "deployment": dep,
            "reason": "PIA filed",
        },
    )
    wait_for("the resume order", lambda: not _stopped(shared_operator, dep))


def test_a_stop_order_stops_processing_and_a_resume_restarts_it(
    regulator: RegulatorProcess, shared_operator: Operator, photo: Callable[[str], bytes]
) -> None:
    gate = shared_operator.gate
    dep = deployment(gate)
    consent(gate, dep, "obama")
    key = gate.create_principal("Desk", "operator").api_key.key
    form = {"subject_ref": "obama"}

    def enroll() -> httpx.Response:
        return httpx.post(
            f"{shared_operator.service.url}/v1/deployments/{dep}/enroll",
            data=form,
            files={"image": ("a.jpg", photo("fixtures/obama.jpg"), "image/jpeg")},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )

    stop = regulator.post(
        "/v1/orders",
        {"origin": shared_operator.origin, "kind": "stop", "deployment": dep, "reason": "audit"},
    )
    wait_for("the stop order", lambda: _stopped(shared_operator, dep))
    refused = enroll()
    assert refused.status_code == 403 and refused.json()["rule_id"] == f"ORDER:{stop['id']}"
    regulator.post(
        "/v1/orders",
        {
            "origin": shared_operator.origin,
            "kind": "resume",
            "deployment": dep,
            "reason": "audit done",
        },
    )
    wait_for("the resume order", lambda: not _stopped(shared_operator, dep))
    done = enroll()
    assert done.status_code == 201, done.text


def test_a_filing_and_an_incident_notification_arrive_with_receipts(
    regulator: RegulatorProcess, shared_operator: Operator, photo: Callable[[str], bytes]
) -> None:
    gate = shared_operator.gate
    dep = deployment(gate)
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    filings.check_filing(gate.core, threshold=1)
    filed = deliver_filing(gate.core, threshold=1)
    inc = incidents.open_incident(
        gate.core,
        discovered_at=datetime.now(UTC),
        description="a badge reader was stolen",
        people_estimate=1,
    )
    notified = deliver_incident(gate.core, inc.id)
    inbox = [
        x
        for x in regulator.get("/v1/inbox", origin=shared_operator.origin)
        if x["what"] in {"filing", "incident"}
    ]
    assert [(x["what"], x["receipt_id"]) for x in inbox] == [
        ("filing", filed["receipt_id"]),
        ("incident", notified["receipt_id"]),
    ]
    assert inbox[1]["document"]["incident"]["id"] == inc.id
    receipts = [r for r in details_of(gate, "regulator.receipt") if r["what"] != "order_ack"]
    assert [r["receipt_id"] for r in receipts] == [filed["receipt_id"], notified["receipt_id"]]
    assert filings.filing_status(gate.core, threshold=1).reference == filed["receipt_id"]


def test_the_verifier_requires_the_regulators_cosignature(
    regulator: RegulatorProcess, shared_operator: Operator, tmp_path: Path
) -> None:
    gate = shared_operator.gate
    dep = deployment(gate)
    consent(gate, dep, "carol")
    wait_for("the witness to cosign", _cosigned(regulator, shared_operator))
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(gate.export_evidence(deployment_id=dep)))
    stranger = Cosigner.from_seed("regulator.e2e/witness", b"\x02" * 32).verifier_key()

    def verify(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "facegate.cli",
                "evidence",
                "verify",
                str(bundle),
                "--log-key",
                gate.ledger_key(),
                "--require-witness",
                key,
            ],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=300,
            check=False,
        )

    ok, refused = verify(regulator.witness_key), verify(stranger)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert refused.returncode == 7 and "required witness" in refused.stderr
