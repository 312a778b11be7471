"""Threshold encrypted verification as a service (issue 16): the capture device encrypts,
the API host holds ciphertexts and evaluation keys only, three key holder nodes and a
decision holder node (separate processes, set up through the command line) decide one bit.
The law is asked first; bad input changes nothing; the decisions equal the clear ones."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from cli_runner import fg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from encrypted_support import JUNK_JSON, Node, nodes_for
from fastapi.testclient import TestClient
from hypothesis import Phase, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from lawful import consent, live, refused
from recognition_support import leaves_since, size
from sqlalchemy import func, select

from facegate.api.app import create_app
from facegate.config import Settings
from facegate.encrypted import wire
from facegate.encrypted.node import NodeHome, identity_text
from facegate.encrypted.setup import ONE_HOST, EncryptedSetup, set_up
from facegate.errors import (
    Conflict,
    Forbidden,
    InvalidCiphertext,
    InvalidInput,
    InvalidTemplate,
    NotFound,
    PartyUnavailable,
)
from facegate.errors import PolicyDenied as PolicyDeniedType
from facegate.flows.facts import scale_facts
from facegate.gate import Gate
from facegate.recognition import FaceEngine, decode_image
from facegate.storage import tables as t
from facegate.templates.hazmat.master_key import MasterKey
from facegate.templates.he.ceremony import HolderShare, PublicMaterial
from facegate.templates.he.threshold import DecisionRequest, ThresholdDevice, threshold_available
from facegate.transfers.detect import BURST

if not threshold_available():
    pytest.skip("OpenFHE's interpreter is missing (make install makes it)", allow_module_level=True)


Photo = Callable[[str], bytes]
SAME = ("fixtures/obama.jpg", "fixtures/obama2.jpg")
OTHER = "faces94/vstros/vstros.1.jpg"


@dataclass
class World:
    gate: Gate
    dep: str
    nodes: dict[str, Node]
    client: TestClient
    auth: dict[str, str]
    device: ThresholdDevice
    database_url: str | None

    def encrypt(self, engine: FaceEngine, data: bytes) -> tuple[bytes, np.ndarray]:
        decoded = decode_image(data, limits=self.gate.settings.recognition)
        embedding = engine.extract_probe(decoded).embedding
        return self.device.encrypt(embedding), np.asarray(embedding)

    def post(self, act: str, ref: str, blob: bytes, dep: str | None = None) -> httpx.Response:
        where = dep or self.dep
        files = {"ciphertext": ("probe.bin", blob, "application/octet-stream")}
        form = {"subject_ref": ref}
        if act == "enroll":
            url = f"/v1/deployments/{where}/encrypted/enroll"
            return self.client.post(url, headers=self.auth, data=form, files=files)
        return self.client.post(
            f"/v1/deployments/{where}/encrypted/verify", headers=self.auth, data=form, files=files
        )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    face_engine: FaceEngine,
) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"encrypted-{request.param}")
    url, name = None, None
    if request.param == "postgres":
        admin = request.getfixturevalue("pg_server")
        name = f"facegate_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin.rsplit('/', 1)[0]}/{name}"
    settings = Settings(home=root / "home", database_url=url)
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate).id
        with nodes_for(gate.settings.home, dep, root, database_url=url) as nodes:
            key = gate.issue_api_key(label="device").key
            with TestClient(create_app(gate)) as client:
                auth = {"Authorization": f"Bearer {key}"}
                got = client.get(f"/v1/deployments/{dep}/encrypted/public-key", headers=auth)
                assert got.status_code == 200, got.text
                body = got.json()
                context, joint = (base64.b64decode(body[k]) for k in ("context", "public_key"))
                public = PublicMaterial(context, joint, b"", b"")
                assert body["ceremony"] == hashlib.sha256(public.public_key).hexdigest()
                device = ThresholdDevice(public)
                yield World(gate, dep, nodes, client, auth, device, url)
                device.close()
    if name is not None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stored(world: World) -> int:
    with world.gate.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(t.EncryptedTemplate)) or 0)


def test_decisions_over_http_equal_the_clear_comparison(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    consent(world.gate, world.dep, "obama")
    enrolled, clear = world.encrypt(face_engine, photo(SAME[0]))
    before = size(world.gate)
    r = world.post("enroll", "obama", enrolled)
    assert r.status_code == 201, r.text
    assert r.json()["scheme"].startswith("he-bfv-threshold")
    for name in (SAME[1], OTHER):
        probe, embedding = world.encrypt(face_engine, photo(name))
        r = world.post("verify", "obama", probe)
        assert r.status_code == 200, r.text
        expected = "match" if np.linalg.norm(clear - embedding) <= 0.6 else "no_match"
        assert r.json()["decision"] == expected == ("match" if name == SAME[1] else "no_match")
        assert "score" not in r.json()
    leaves = leaves_since(world.gate, before)
    assert [leaf["kind"] for leaf in leaves] == ["enroll", "verify", "verify"]
    assert leaves[0]["details"]["input_sha256"] == hashlib.sha256(enrolled).hexdigest()
    assert all("score" not in leaf["details"] for leaf in leaves)
    with world.gate.db.read() as s:
        (sealed,) = s.scalars(select(t.EncryptedTemplate.sealed)).all()
    assert enrolled[1000:1064] not in sealed  # sealed under the person's data key as well


def test_the_law_is_asked_before_the_ciphertext_is_read(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    blob, _ = world.encrypt(face_engine, photo(OTHER))
    stored = _stored(world)
    denied = refused(
        world.gate, "CN-FR-6", lambda: world.gate.enroll_encrypted(world.dep, "nobody", blob)
    )
    assert "score" not in denied.to_dict()
    r = world.post("enroll", "nobody", blob)
    assert r.status_code == 403 and "CN-FR-6" in r.json()["rule_ids"], r.text
    r = world.post("verify", "nobody", blob)
    assert r.status_code == 403, r.text
    assert _stored(world) == stored
    consent(world.gate, world.dep, "nobody")  # the condition met: allowed
    assert world.post("enroll", "nobody", blob).status_code == 201
    assert world.post("verify", "nobody", blob).json()["decision"] == "match"


def test_bad_input_is_refused_and_changes_nothing(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    consent(world.gate, world.dep, "junk")
    before, stored = size(world.gate), _stored(world)
    for blob in (b"", b"not a ciphertext", os.urandom(4096)):
        r = world.post("enroll", "junk", blob)
        assert r.status_code == 422 and r.json()["error"] == "invalid_ciphertext", r.text
    with pytest.raises(InvalidCiphertext, match="OpenFHE"):
        world.gate.enroll_encrypted(world.dep, "junk", b"\x00" * 100)
    r = world.post("verify", "junk", b"junk")
    assert r.status_code == 404, r.text  # nothing enrolled: not found before the probe
    assert (size(world.gate), _stored(world)) == (before, stored)
    consent(world.gate, world.dep, "probed")
    good, _ = world.encrypt(face_engine, photo(OTHER))
    world.gate.enroll_encrypted(world.dep, "probed", good)
    before = size(world.gate)
    r = world.post("verify", "probed", os.urandom(5000))
    assert r.status_code == 422 and r.json()["error"] == "invalid_ciphertext", r.text
    assert size(world.gate) == before  # a junk probe decides and records nothing
    with pytest.raises(NotFound, match="no encrypted template"):
        world.gate.verify_encrypted(world.dep, "junk", b"x")
    r = world.client.get("/v1/deployments/nope/encrypted/public-key", headers=world.auth)
    assert r.status_code == 404


def test_a_liveness_deployment_refuses_encrypted_probes(world: World) -> None:
    dep = live(world.gate, liveness=True).id
    consent(world.gate, dep, "alice")
    with pytest.raises(Conflict, match="liveness"):
        world.gate.enroll_encrypted(dep, "alice", b"x" * 10)
    with pytest.raises(NotFound, match="no encrypted verification"):
        world.gate.encrypted_public_key(live(world.gate).id)


def test_concurrent_enrolments_keep_the_five_template_limit(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    consent(world.gate, world.dep, "many")
    blob, _ = world.encrypt(face_engine, photo(SAME[1]))

    def one(_: int) -> str:
        try:
            world.gate.enroll_encrypted(world.dep, "many", blob)
        except Conflict:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(7)))
    assert sorted(outcomes) == ["refused"] * 2 + ["stored"] * 5


def test_nodes_act_only_on_what_the_server_signed(world: World) -> None:
    decider, holder = world.nodes["decider"].url, world.nodes["hsm"].url
    forged = {"ciphertext": "AAAA", "ticket": "t", "positions": [0], "signature": "AAAA"}
    # signed by the decision holder, but not by the server: the holder decrypts nothing
    signer, _ = NodeHome.open(world.nodes["decider"].folder).identity()
    said = signer.sign(wire.partials_bytes(wire.request_in(forged), [1], False))
    body = {"request": forged, "indices": [1], "lead": False, "decider_signature": wire.b64(said)}
    r = httpx.post(f"{holder}/v1/partials", json=body, timeout=30)
    assert r.status_code == 400 and "the server signed" in r.json()["message"], r.text
    r = httpx.post(f"{decider}/v1/begin", json=forged, timeout=30)
    assert r.status_code == 400 and "signed" in r.json()["message"], r.text
    body = {"ticket": "t", "answers": {"0": ["AAAA"]}, "signature": "AAAA"}
    r = httpx.post(f"{decider}/v1/finish", json=body, timeout=30)
    assert r.status_code == 400, r.text
    about = httpx.get(f"{holder}/v1/about", timeout=5).json()
    identity = identity_text(NodeHome.open(world.nodes["hsm"].folder).identity_public())
    assert about == {
        "role": "holder", "name": "hsm", "indices": [1, 2], "ready": True, "identity": identity,
        "key": "clear",
    }  # fmt: skip


_FIELDS = st.sampled_from(
    ["request", "indices", "lead", "decider_signature", "ciphertext", "ticket", "positions",
     "signature", "answers"]
)  # fmt: skip


def test_set_up_nodes_answer_junk_with_a_clear_error_never_a_5xx(world: World) -> None:
    """Junk, bounded by count, to every route of the set-up nodes (JSON of any shape, and
    fields of the right names with values of any type): a 4xx with a message, never a 5xx."""
    client = httpx.Client(timeout=60)

    @fuzzing(max_examples=40, deadline=None, phases=[Phase.generate])
    @given(
        body=st.dictionaries(_FIELDS, JUNK_JSON, max_size=6) | JUNK_JSON,
        where=st.sampled_from(sorted(world.nodes)),
        route=st.sampled_from(["/v1/partials", "/v1/begin", "/v1/finish"]),
    )
    def one(body: Any, where: str, route: str) -> None:
        r = client.post(world.nodes[where].url + route, json=body)
        assert r.status_code < 500 and r.json().get("message"), (where, route, r.text)

    try:
        one()
    finally:
        client.close()
    for node in world.nodes.values():  # every node still serves, set up
        assert httpx.get(f"{node.url}/v1/about", timeout=5).json()["ready"] is True


def test_the_api_host_alone_gets_nothing_from_the_key_holders(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    """The API host holds the server's signing key: it can sign a stored template as if it
    were a decision request. Key holders still answer the decision holder alone, and seal
    their decryption shares to it: what the API host gets opens nothing."""
    consent(world.gate, world.dep, "victim")
    stored, _ = world.encrypt(face_engine, photo(SAME[0]))
    world.gate.enroll_encrypted(world.dep, "victim", stored)
    server = EncryptedSetup.load(world.gate.core, world.dep).verifier(world.gate.core)
    unsigned = DecisionRequest(stored, "steal", (0,))
    request = DecisionRequest(stored, "steal", (0,), server.sign(unsigned.signed_bytes()))
    urls = {n: world.nodes[n].url for n in ("operator", "hsm")}
    asks: dict[str, tuple[list[int], bool]] = {"operator": ([0, 1], True), "hsm": ([2], False)}
    for name, (indices, lead) in asks.items():  # signed by the server, not the decider
        body = {"request": wire.request_out(request), "indices": indices, "lead": lead}
        r = httpx.post(f"{urls[name]}/v1/partials", json=body, timeout=60)
        assert r.status_code == 400 and "decision holder" in r.json()["message"], r.text
        forged = Ed25519PrivateKey.generate().sign(wire.partials_bytes(request, indices, lead))
        body["decider_signature"] = wire.b64(forged)
        r = httpx.post(f"{urls[name]}/v1/partials", json=body, timeout=60)
        assert r.status_code == 400 and "decision holder" in r.json()["message"], r.text
    # with the decision holder's own signature (so: the decision holder is in the plot) the
    # shares come back sealed to its X25519 key: nobody else opens them
    signer, opener = NodeHome.open(world.nodes["decider"].folder).identity()
    signature = wire.b64(signer.sign(wire.partials_bytes(request, [2], False)))
    body = {"request": wire.request_out(request), "indices": [2], "lead": False,
            "decider_signature": signature}  # fmt: skip
    r = httpx.post(f"{urls['hsm']}/v1/partials", json=body, timeout=60)
    assert r.status_code == 200, r.text
    (sealed,) = [wire.unb64(p, "share") for p in r.json()["partials"]]
    with pytest.raises(InvalidInput, match="not sealed"):
        wire.open_partial(sealed, X25519PrivateKey.generate(), "steal")
    assert len(wire.open_partial(sealed, opener, "steal")) > 100_000


def test_node_folders_are_private_and_hold_one_holders_shares(world: World) -> None:
    for name, node in world.nodes.items():
        assert node.folder.stat().st_mode & 0o777 == 0o700
        files = {p.name: p.stat().st_mode & 0o777 for p in node.folder.iterdir()}
        assert set(files.values()) == {0o600}, files
        assert ("share.sealed" in files) == ("decider.pub" in files) == (name != "decider")
    home = world.gate.settings.home / "encrypted" / world.dep
    assert {p.name for p in home.iterdir()} >= {"server.key", "public_key", "eval_sum"}
    share = NodeHome.open(world.nodes["hsm"].folder).material().share
    assert share is not None and share.holder == "hsm" and sorted(share.shares) == [1, 2]
    sealed = (world.nodes["hsm"].folder / "share.sealed").read_bytes()
    assert not any(raw[:64] in sealed for raw in share.shares.values())
    operator_key = MasterKey.from_file(world.nodes["operator"].folder / "node.key").key
    with pytest.raises(InvalidTemplate):  # one holder's node key opens no other's shares
        HolderShare.open(sealed, operator_key)
    setups = [leaf for leaf in leaves_since(world.gate, 0) if leaf["kind"] == "encrypted.setup"]
    (leaf,) = [x for x in setups if x["deployment"] == world.dep]
    assert leaf["details"]["ceremony"] == EncryptedSetup.load(world.gate.core, world.dep).ceremony
    desk = world.gate.acting_as(world.gate.create_principal("dpo", "dpo").api_key.key)
    holders = {n: world.nodes[n].folder for n in ("operator", "hsm", "regulator")}
    with pytest.raises(Forbidden):
        set_up(
            desk.core, desk.actor, world.dep, decider_url="http://127.0.0.1:1",
            holders=holders, decider_node=world.nodes["decider"].folder,
        )  # fmt: skip
    with pytest.raises(Conflict, match="already"):
        set_up(
            world.gate.core, world.gate.actor, world.dep, decider_url="http://127.0.0.1:1",
            holders=holders, decider_node=world.nodes["decider"].folder,
        )  # fmt: skip


def test_people_are_told_and_counted_and_erasure_takes_the_templates(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    code = consent(world.gate, world.dep, "leaver").access_code
    with world.gate.db.read() as s:
        people = scale_facts(s, world.gate.actor.operator_id).people_stored
    blob, _ = world.encrypt(face_engine, photo(OTHER))
    world.gate.enroll_encrypted(world.dep, "leaver", blob)
    held = world.gate.subject_view(code)["held"]
    assert isinstance(held, dict) and len(held["encrypted_templates"]) == 1
    r = world.client.get("/v1/subject/me", headers={"X-Access-Code": code})
    assert r.status_code == 200 and len(r.json()["held"]["encrypted_templates"]) == 1, r.text
    with world.gate.db.read() as s:  # the CN-FR-15 filing count: encrypted people count too
        assert scale_facts(s, world.gate.actor.operator_id).people_stored == people + 1
    stored = _stored(world)
    world.gate.erase(world.dep, "leaver", reason="asked")
    assert _stored(world) == stored - 1
    with pytest.raises((NotFound, PolicyDeniedType)):
        world.gate.verify_encrypted(world.dep, "leaver", blob)


def test_two_holders_suffice_and_one_is_not_enough(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    consent(world.gate, world.dep, "quorum")
    enrolled, _ = world.encrypt(face_engine, photo(SAME[0]))
    probe, _ = world.encrypt(face_engine, photo(SAME[1]))
    world.gate.enroll_encrypted(world.dep, "quorum", enrolled)
    world.nodes["regulator"].stop()
    try:
        assert world.gate.verify_encrypted(world.dep, "quorum", probe).decision == "match"
        world.nodes["operator"].stop()
        before = size(world.gate)
        with pytest.raises(PartyUnavailable, match="two of the three"):
            world.gate.verify_encrypted(world.dep, "quorum", probe)
        r = world.post("verify", "quorum", probe)
        assert r.status_code == 503 and r.json()["error"] == "party_unavailable", r.text
        assert size(world.gate) == before  # nothing decided, nothing recorded
    finally:
        for name in ("regulator", "operator"):
            if world.nodes[name].proc is None:
                world.nodes[name].start()
    assert world.gate.verify_encrypted(world.dep, "quorum", probe).decision == "match"


def test_the_command_line_is_a_capture_device(world: World, faces_dir: Path) -> None:
    consent(world.gate, world.dep, "cli")
    home, env = world.gate.settings.home, {}
    if world.database_url:
        env["FACEGATE_DATABASE_URL"] = world.database_url
    stored = _stored(world)
    args = ("-d", world.dep, "-s", "cli", "--json")
    fg(home, "encrypted", "enroll", str(faces_dir / SAME[0]), *args, env=env)
    assert _stored(world) == stored + 1
    for name, expected in ((SAME[1], "match"), (OTHER, "no_match")):
        done = fg(home, "encrypted", "verify", str(faces_dir / name), *args, env=env)
        assert json.loads(done.stdout)["decision"] == expected
    refused_run = fg(home, "encrypted", "verify", str(faces_dir / OTHER), "-d", world.dep,
                     "-s", "stranger", "--json", ok=False, env=env)  # fmt: skip
    assert refused_run.returncode != 0 and "CN-FR-6" in refused_run.stdout


def test_expired_encrypted_templates_are_swept_and_ledgered(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    consent(world.gate, world.dep, "brief")
    blob, _ = world.encrypt(face_engine, photo(OTHER))
    done = world.gate.enroll_encrypted(world.dep, "brief", blob)
    with world.gate.db.transaction() as s:
        row = s.get(t.EncryptedTemplate, done.template_id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(NotFound):  # an expired template is never compared
        world.gate.verify_encrypted(world.dep, "brief", blob)
    before = size(world.gate)
    report = world.gate.sweep_retention()
    assert report.templates_expired >= 1
    with world.gate.db.read() as s:
        assert s.get(t.EncryptedTemplate, done.template_id) is None
    erased = [leaf for leaf in leaves_since(world.gate, before) if leaf["kind"] == "erase"]
    assert any(leaf["details"]["reason"] == "retention period ended" for leaf in erased), erased


def test_reports_say_what_must_be_stolen_to_open_an_encrypted_template(world: World) -> None:
    def labels(dep: str, kind: str) -> dict[str, str]:
        report = world.gate.report(kind, dep, issue=False)
        return {i.label: str(i.value) for sec in report.sections for i in sec.items}

    ceremony = EncryptedSetup.load(world.gate.core, world.dep).ceremony
    for kind in ("pia", "art30"):
        said = labels(world.dep, kind)["Threshold encrypted verification"]
        assert (
            ceremony[:16] in said and "two of the three" in said and "one accept/reject bit" in said
        )
    plain = live(world.gate).id  # no ceremony: the reports do not claim one
    assert "Threshold encrypted verification" not in labels(plain, "pia")


def test_a_burst_of_failed_encrypted_probes_stops_the_one_bit_oracle(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    """Each answer is one bit, but bits add up: the hill-climbing watch at the policy door
    counts encrypted failures like photo ones (BURST in an hour) and stops the person."""
    consent(world.gate, world.dep, "target")
    enrolled, _ = world.encrypt(face_engine, photo(SAME[0]))
    stranger, _ = world.encrypt(face_engine, photo(OTHER))
    genuine, _ = world.encrypt(face_engine, photo(SAME[1]))
    world.gate.enroll_encrypted(world.dep, "target", enrolled)
    assert world.gate.verify_encrypted(world.dep, "target", genuine).decision == "match"
    for _ in range(BURST):
        assert world.gate.verify_encrypted(world.dep, "target", stranger).decision == "no_match"
    denied = refused(
        world.gate, "ISO-24745", lambda: world.gate.verify_encrypted(world.dep, "target", genuine)
    )
    assert "failed probes" in str(denied)
    r = world.post("verify", "target", genuine)  # stays stopped, whoever asks
    assert r.status_code == 403 and "ISO-24745" in r.json()["rule_ids"], r.text


def _fresh_nodes(root: Path) -> tuple[dict[str, Path], Path]:
    for name in ("operator", "hsm", "regulator"):
        NodeHome.init(root / name, role="holder", name=name)
    NodeHome.init(root / "decider", role="decider", name="decider")
    return {n: root / n for n in ("operator", "hsm", "regulator")}, root / "decider"


def test_a_node_serves_one_ceremony_and_setups_do_not_race(
    world: World, face_engine: FaceEngine, photo: Photo, tmp_path: Path
) -> None:
    """Reusing the world's nodes for another deployment would overwrite their shares: it is
    refused before any ceremony, and leaves nothing. Two setups of one deployment at once:
    one goes on, the other is refused and leaves the nodes it named free."""
    gate, other = world.gate, live(world.gate).id
    holders = {n: world.nodes[n].folder for n in ("operator", "hsm", "regulator")}
    with pytest.raises(Conflict, match="already serves a key ceremony") as caught:
        set_up(gate.core, gate.actor, other, decider_url="http://127.0.0.1:1",
               holders=holders, decider_node=world.nodes["decider"].folder)  # fmt: skip
    assert "node-init" in caught.value.advice
    assert not (gate.settings.home / "encrypted" / other).exists()
    consent(gate, world.dep, "still")  # the world's nodes serve on, unchanged
    enrolled, _ = world.encrypt(face_engine, photo(SAME[0]))
    probe, _ = world.encrypt(face_engine, photo(SAME[1]))
    gate.enroll_encrypted(world.dep, "still", enrolled)
    assert gate.verify_encrypted(world.dep, "still", probe).decision == "match"

    fresh = live(gate).id
    first, second = _fresh_nodes(tmp_path / "a"), _fresh_nodes(tmp_path / "b")

    def one(nodes: tuple[dict[str, Path], Path]) -> str:
        try:
            set_up(gate.core, gate.actor, fresh, decider_url="http://127.0.0.1:1",
                   holders=nodes[0], decider_node=nodes[1])  # fmt: skip
        except Conflict:
            return "refused"
        return "set up"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(one, (first, second)))
    assert sorted(outcomes) == ["refused", "set up"]
    loser = (first, second)[outcomes.index("refused")]
    assert not any(
        (folder / "ceremony.claim").exists() for folder in (*loser[0].values(), loser[1])
    )
    assert EncryptedSetup.load(gate.core, fresh).decider == "http://127.0.0.1:1"
    # shares made on this host (node folders): the reports say that host is a fourth custodian
    assert EncryptedSetup.load(gate.core, fresh).made_at == ONE_HOST
    report = gate.report("pia", fresh, issue=False)
    (said,) = [str(i.value) for sec in report.sections for i in sec.items if "Threshold" in i.label]
    assert "made on one host" in said and "fourth custodian" in said
