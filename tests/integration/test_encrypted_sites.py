"""The key ceremony at the nodes (issue 16: no single stolen part opens a face): each key
holder makes its own share, which leaves its node only sealed to the other holder that keeps
it. The API host coordinates; it never sees a share, and a coordinator that tries to put a
key of its own into the ceremony, or to hand a holder a share it made, is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_runner import fg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from encrypted_support import JUNK_JSON, Node, init_nodes, setup_args
from hypothesis import Phase, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from lawful import consent, live
from recognition_support import leaves_since
from softhsm_support import MODULE, PIN

from facegate.config import Settings
from facegate.encrypted import frames, sites, wire
from facegate.encrypted.maker import STATE, digests, statement
from facegate.encrypted.node import NodeHome, identity_text
from facegate.encrypted.service import node_app
from facegate.encrypted.setup import AT_NODES, EncryptedSetup, set_up_at_nodes
from facegate.errors import ConfigError, InvalidInput, PartyUnavailable
from facegate.gate import Gate
from facegate.recognition import FaceEngine, decode_image
from facegate.templates.he._party import Party
from facegate.templates.he.ceremony import HOLDERS, PublicMaterial
from facegate.templates.he.threshold import ThresholdDevice, threshold_available

if not threshold_available():
    pytest.skip("OpenFHE's interpreter is missing (make install makes it)", allow_module_level=True)


def step(
    node: Node, name: str, meta: dict[str, Any], blobs: dict[str, bytes] | None = None
) -> httpx.Response:
    body = frames.pack(meta, blobs or {})
    return httpx.post(f"{node.url}/v1/ceremony/{name}", content=body, timeout=300)


def answer(r: httpx.Response) -> tuple[dict[str, Any], dict[str, bytes]]:
    assert r.status_code == 200, r.text
    return frames.unpack(r.content)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Node]]:
    nodes = init_nodes(tmp_path / "nodes")
    try:
        for node in nodes.values():
            node.start()
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


def _shares(nodes: dict[str, Node]) -> dict[str, dict[int, bytes]]:
    out = {}
    for name in HOLDERS:
        share = NodeHome.open(nodes[name].folder).material().share
        assert share is not None
        out[name] = share.shares
    return out


def test_the_api_host_never_sees_a_key_share(
    served: dict[str, Node],
    tmp_path: Path,
    face_engine: FaceEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []
    ids: set[str] = set()
    real = sites._Nodes.step

    def recorded(self, name, what, meta=None, blobs=None):  # type: ignore[no-untyped-def]
        ids.add(self.meta["ceremony"])
        seen.extend((blobs or {}).values())
        got_meta, got = real(self, name, what, meta, blobs)
        seen.extend(got.values())
        seen.append(json.dumps(got_meta).encode())
        return got_meta, got

    monkeypatch.setattr(sites._Nodes, "step", recorded)
    settings = Settings(home=tmp_path / "home")
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate).id
        done = set_up_at_nodes(
            gate.core, gate.actor, dep, decider_url=served["decider"].url,
            holder_urls={name: served[name].url for name in HOLDERS},
        )  # fmt: skip
        assert done.made_at == AT_NODES == EncryptedSetup.load(gate.core, dep).made_at
        (leaf,) = [x for x in leaves_since(gate, 0) if x["kind"] == "encrypted.setup"]
        assert leaf["details"]["made_at"] == AT_NODES
        for name in (*HOLDERS, "decider"):
            ident = identity_text(NodeHome.open(served[name].folder).identity_public())
            assert leaf["details"]["identities"][name] == ident
        report = gate.report("pia", dep, issue=False)
        said = [
            str(i.value) for sec in report.sections for i in sec.items if "Threshold" in i.label
        ]
        assert "made its own share at its node" in said[0]
    shares = _shares(served)
    assert {name: sorted(s) for name, s in shares.items()} == {
        "operator": [0, 1], "hsm": [1, 2], "regulator": [0, 2],
    }  # fmt: skip
    assert shares["operator"][1] == shares["hsm"][1] and shares["hsm"][2] == shares["regulator"][2]
    assert len(seen) > 20  # the coordinator did relay the ceremony
    for raw in {blob for s in shares.values() for blob in s.values()}:
        # a private key, anywhere in what passed through the API host, would hold these bytes
        # (its coefficients; its first bytes are parameters that public keys share too)
        marks = [raw[at : at + 64] for at in range(4096, len(raw) - 64, len(raw) // 8)]
        assert not any(mark in blob for mark in marks for blob in seen)
    for node in served.values():
        assert httpx.get(f"{node.url}/v1/about").json()["ready"] is True
    # installed once: neither a new ceremony nor this one again can swap a node's keys
    (cid,) = ids
    server = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    for name, node in served.items():
        assert step(node, "claim", {"ceremony": "00" * 16, "deployment": "x"}).status_code == 409
        again = step(node, "install", {"ceremony": cid, "deployment": dep}, {"server_key": server})
        assert again.status_code == 409, (name, again.text)
    assert (served["decider"].folder / "server.pub").read_bytes() != server


def _attacker_state() -> dict[str, bytes]:
    own = Party()  # the API host's own key, which it would like the joint key to be
    try:
        state = own.call("keygen_first")
    finally:
        own.close()
    return {name: bytes(state[name]) for name in STATE}


def test_a_coordinator_cannot_put_its_own_key_or_share_into_the_ceremony(
    served: dict[str, Node], tmp_path: Path, face_engine: FaceEngine
) -> None:
    cid, dep = "ab" * 16, "dep-attack"
    meta = {"ceremony": cid, "deployment": dep}
    early = step(served["hsm"], "keygen", meta, {"context": bytes(8 << 20)})
    assert early.status_code == 409 and "claim it first" in early.json()["message"]
    for name in HOLDERS:
        answer(step(served[name], "claim", meta))
    claimed_again = step(served["hsm"], "claim", {**meta, "ceremony": "cd" * 16})
    assert claimed_again.status_code == 409, claimed_again.text  # one ceremony a node
    signed, state = answer(step(served["operator"], "keygen", meta))
    again = step(served["operator"], "keygen", meta)  # a second key would not be the signed one
    assert again.status_code == 409 and "already taken" in again.json()["message"]
    fake = _attacker_state()
    forger = Ed25519PrivateKey.generate()
    forged = wire.b64(forger.sign(statement("keygen", cid, dep, 0, digests(fake))))
    for signature in (signed["signature"], forged):  # the operator's signature on another state
        r = step(served["hsm"], "keygen", {**meta, "signature": signature}, fake)
        assert r.status_code == 400 and "not signed by the operator holder" in r.json()["message"]
    # the real chain goes on; a "finished" key the regulator did not sign is refused
    signed, state = answer(step(served["hsm"], "keygen", {**meta, **signed}, state))
    small = {n: state[n] for n in ("context", "public_key", "joint")}
    rest = digests({n: state[n] for n in ("first", "sums")})
    r = step(
        served["operator"],
        "mult",
        {**meta, "signature": signed["signature"], "digests": rest},
        small,
    )
    assert r.status_code == 400 and "regulator holder" in r.json()["message"]
    signed, state = answer(step(served["regulator"], "keygen", {**meta, **signed}, state))
    small = {n: state[n] for n in ("context", "public_key", "joint")}
    rest = digests({n: state[n] for n in ("first", "sums")})
    made, _ = answer(
        step(
            served["hsm"],
            "mult",
            {**meta, "signature": signed["signature"], "digests": rest},
            small,
        )
    )
    assert made["to"] == "operator"  # hsm's share 1 goes to operator, sealed
    # a share the coordinator made, "signed" by itself, is not installed
    mine = wire.seal_to(b"x" * 64, NodeHome.open(served["operator"].folder).identity_public(), b"i")
    forged = wire.b64(forger.sign(b"anything"))
    server = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    answer(
        step(
            served["operator"],
            "mult",
            {**meta, "signature": signed["signature"], "digests": rest},
            small,
        )
    )
    r = step(served["operator"], "install", {**meta, "signature": forged},
             {"context": state["context"], "server_key": server, "sealed": mine})  # fmt: skip
    assert r.status_code == 400 and "hsm holder" in r.json()["message"]
    assert not NodeHome.open(served["operator"].folder).is_set_up()
    # an abort frees every node; a real setup through the command line then goes through
    for name in HOLDERS:
        answer(step(served[name], "abort", meta))
        assert not (served[name].folder / "ceremony.claim").exists()
    settings = Settings(home=tmp_path / "home")
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate).id
    made = json.loads(fg(settings.home, *setup_args(dep, served), "--json").stdout)
    assert made["made_at"] == AT_NODES
    assert sorted(_shares(served)["operator"]) == [0, 1]


def test_a_holder_given_another_identity_for_a_peer_refuses_and_the_setup_changes_nothing(
    tmp_path: Path, face_engine: FaceEngine
) -> None:
    nodes = init_nodes(tmp_path / "nodes")
    impostor = identity_text(Ed25519PrivateKey.generate().public_key().public_bytes_raw() * 2)
    good = nodes["hsm"].extra
    nodes["hsm"].extra = tuple(
        f"operator={impostor}" if a.startswith("operator=") else a for a in good
    )
    with pytest.raises(InvalidInput, match="awaits its key ceremony"):
        node_app(NodeHome.open(nodes["hsm"].folder), peers={})
    printed = fg(None, "encrypted", "node-identity", str(nodes["operator"].folder)).stdout
    assert f"operator={printed.strip()}" in good  # the line node-init printed
    refused_run = fg(None, "encrypted", "node-identity", str(tmp_path / "none"), ok=False)
    assert refused_run.returncode != 0 and "missing" in refused_run.stderr + refused_run.stdout
    settings = Settings(home=tmp_path / "home")
    try:
        for node in nodes.values():
            node.start()
        with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
            dep = live(gate).id
            urls = {n: nodes[n].url for n in HOLDERS}

            def setup() -> EncryptedSetup:
                return set_up_at_nodes(
                    gate.core, gate.actor, dep, decider_url=nodes["decider"].url, holder_urls=urls
                )

            with pytest.raises(PartyUnavailable, match="not signed by the operator holder"):
                setup()
            assert not (settings.home / "encrypted" / dep).exists()
            assert not [x for x in leaves_since(gate, 0) if x["kind"] == "encrypted.setup"]
            for node in nodes.values():  # every node was freed
                assert not (node.folder / "ceremony.claim").exists()
            nodes["hsm"].stop()
            nodes["hsm"].extra = good  # the right identity: the same setup goes through
            nodes["hsm"].start()
            done = setup()
            assert done.made_at == AT_NODES
    finally:
        for node in nodes.values():
            node.stop()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--holder", "hsm=/srv/hsm", "--holder", "regulator=https://r"], "URLs, or their three"),
        (["--holder", "hsm=https://h", "--holder", "regulator=https://r", "--decider", "/d"],
         "by its URL"),
        (["--holder", "hsm=/srv/hsm", "--holder", "regulator=/srv/reg"], "--decider names"),
        (["--holder", "hsm", "--holder", "regulator=https://r"], "NAME=VALUE"),
    ],
)  # fmt: skip
def test_setup_refuses_a_muddle_of_urls_and_folders_before_anything(
    tmp_path: Path, extra: list[str], said: str
) -> None:
    first = "operator=https://o" if "https://h" in " ".join(extra) else "operator=/srv/op"
    args = ["encrypted", "setup", "-d", "dep", "--decider-url", "https://d", "--holder", first]
    done = fg(tmp_path / "home", *args, *extra, ok=False)
    assert done.returncode != 0 and said in done.stderr + done.stdout
    assert not (tmp_path / "home" / "encrypted").exists()


def test_a_holder_node_refuses_to_await_a_ceremony_without_its_peers(tmp_path: Path) -> None:
    nodes = init_nodes(tmp_path / "nodes")
    args = ["encrypted", "node-serve", str(nodes["hsm"].folder), "--port", "1"]
    without = fg(None, *args, ok=False)
    assert without.returncode != 0 and "--peer" in without.stderr + without.stdout
    junk = fg(None, *args, "--peer", "operator=not-an-identity", ok=False)
    assert junk.returncode != 0 and "identity must be" in junk.stderr + junk.stdout


def test_the_hsm_holder_keeps_its_node_key_in_a_token(
    token: str, tmp_path: Path, face_engine: FaceEngine, photo: Callable[[str], bytes]
) -> None:
    """``node-init --hsm``: the HSM holder's node key is wrapped inside a PKCS#11 token, so a
    copy of its folder opens nothing; with the token it makes its share and decides."""
    hsm_env = {
        "FACEGATE_HSM__MODULE": str(MODULE), "FACEGATE_HSM__TOKEN": token,
        "FACEGATE_HSM__PIN": PIN, "FACEGATE_HSM__LABEL": "fg-node-hsm",
    }  # fmt: skip
    nodes = init_nodes(tmp_path / "nodes", hsm_env=hsm_env)
    folder = nodes["hsm"].folder
    doc = json.loads((folder / "node.key").read_text())
    assert doc["kind"] == "facegate-node-key-hsm" and "key" not in doc
    with pytest.raises(ConfigError, match="FACEGATE_HSM__MODULE"):  # the folder alone
        NodeHome.open(folder).identity_public()
    with_token = fg(None, "encrypted", "node-identity", str(folder), "--json", env=hsm_env)
    assert json.loads(with_token.stdout)["key"] == "hsm"
    copied = fg(None, "encrypted", "node-identity", str(folder), ok=False)
    assert copied.returncode != 0 and "FACEGATE_HSM__MODULE" in copied.stderr + copied.stdout
    settings = Settings(home=tmp_path / "home")
    try:
        for node in nodes.values():
            node.start()
        assert httpx.get(f"{nodes['hsm'].url}/v1/about").json()["key"] == "hsm"
        with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
            dep = live(gate).id
            set_up_at_nodes(
                gate.core, gate.actor, dep, decider_url=nodes["decider"].url,
                holder_urls={n: nodes[n].url for n in HOLDERS},
            )  # fmt: skip
            (leaf,) = [x for x in leaves_since(gate, 0) if x["kind"] == "encrypted.setup"]
            assert leaf["details"]["node_keys"] == {
                "operator": "clear", "hsm": "hsm", "regulator": "clear", "decider": "clear",
            }  # fmt: skip
            report = gate.report("pia", dep, issue=False)
            (said,) = [str(i.value) for sec in report.sections for i in sec.items
                       if "Threshold" in i.label]  # fmt: skip
            assert "hsm: in an HSM token" in said and "operator: in a clear file" in said
            nodes["operator"].stop()  # the hsm holder must answer: it and the regulator decide
            _, context, key = gate.encrypted_public_key(dep)
            device = ThresholdDevice(PublicMaterial(context, key, b"", b""))
            try:
                consent(gate, dep, "obama")
                embed = {
                    name: gate.core.engine.extract_probe(
                        decode_image(photo(name), limits=gate.settings.recognition)
                    ).embedding
                    for name in ("fixtures/obama.jpg", "fixtures/obama2.jpg")
                }
                gate.enroll_encrypted(dep, "obama", device.encrypt(embed["fixtures/obama.jpg"]))
                probe = device.encrypt(embed["fixtures/obama2.jpg"])
                assert gate.verify_encrypted(dep, "obama", probe).decision == "match"
            finally:
                device.close()
    finally:
        for node in nodes.values():
            node.stop()


_BLOBS = ["context", "public_key", "joint", "first", "sums", "sealed", "server_key"]


def test_ceremony_routes_answer_junk_with_a_clear_error_never_a_5xx(
    served: dict[str, Node],
) -> None:
    """Junk to the ceremony routes, bounded, with the nodes claimed (so that junk reaches
    the steps, sometimes under the right ceremony id): never a 5xx."""
    cid = "ef" * 16
    for name in HOLDERS:
        answer(step(served[name], "claim", {"ceremony": cid, "deployment": "d"}))
    client = httpx.Client(timeout=120)
    meta = st.fixed_dictionaries(
        {"ceremony": st.sampled_from([cid, "00" * 16, 7])},
        optional={"signature": JUNK_JSON, "digests": JUNK_JSON},
    )

    @fuzzing(max_examples=40, deadline=None, phases=[Phase.generate])
    @given(
        head=meta, raw=st.binary(max_size=200),
        names=st.lists(st.sampled_from(_BLOBS), max_size=3),
        where=st.sampled_from(sorted(served)),
        what=st.sampled_from(["claim", "keygen", "mult", "install"]),
    )  # fmt: skip
    def one(head: dict[str, Any], raw: bytes, names: list[str], where: str, what: str) -> None:
        url = f"{served[where].url}/v1/ceremony/{what}"
        r = client.post(url, content=raw)
        assert r.status_code < 500 and r.json().get("message"), (where, what, r.text)
        r = client.post(url, content=frames.pack(head, dict.fromkeys(names, raw)))
        assert r.status_code < 500, (where, what, r.text)

    try:
        one()
    finally:
        client.close()


def test_a_passphrase_node_key_opens_only_with_its_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_NODE_PASSPHRASE", "correct horse")
    node = NodeHome.init(tmp_path / "op", role="holder", name="operator")
    assert node.key_protection() == "passphrase"
    identity = node.identity_public()
    assert "correct horse" not in (tmp_path / "op" / "node.key").read_text()
    monkeypatch.setenv("FACEGATE_NODE_PASSPHRASE", "wrong")
    with pytest.raises(ConfigError, match="FACEGATE_NODE_PASSPHRASE is not the one"):
        node.identity_public()
    monkeypatch.delenv("FACEGATE_NODE_PASSPHRASE")
    with pytest.raises(ConfigError, match="FACEGATE_NODE_PASSPHRASE is not set"):
        node.identity_public()
    monkeypatch.setenv("FACEGATE_NODE_PASSPHRASE", "correct horse")
    assert node.identity_public() == identity
