"""``facegate encrypted``: threshold encrypted verification (issue 16).

``node-init`` makes a key holder's or the decision holder's node folder, ``setup`` runs a
deployment's key ceremony and hands each node its part, ``node-serve`` runs a node's HTTP
service, and ``enroll`` / ``verify`` / ``identify`` act as a capture device: the embedding is
computed and encrypted here and only the ciphertext reaches the deployment
(docs/template-protection.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from facegate.cli.common import DeploymentId, Home, Json, Key, emit, gate_for, out, read_image, run
from facegate.errors import InvalidInput

encrypted_app = typer.Typer(
    help="Threshold encrypted templates: key holder nodes, the ceremony, enroll, verify, identify.",
    no_args_is_help=True,
)
Opt = typer.Option
Folder = Annotated[Path, typer.Argument(help="the node's folder", show_default=False)]


@encrypted_app.command("node-init")
def node_init(
    folder: Folder,
    role: Annotated[str, Opt(help="holder or decider")],
    name: Annotated[str, Opt(help="a holder: operator, hsm or regulator; else decider")],
    hsm: Annotated[
        bool, Opt("--hsm", help="wrap the node key in the PKCS#11 token of FACEGATE_HSM__*")
    ] = False,
    as_json: Json = False,
) -> None:
    """Make a node's folder and its own key (in an HSM with --hsm; else a key file, which
    FACEGATE_NODE_PASSPHRASE protects)."""
    from facegate.encrypted.node import NodeHome, identity_text

    def make() -> dict[str, Any]:
        node = NodeHome.init(folder, role=role, name=name, hsm=hsm)
        identity = identity_text(node.identity_public())
        return {
            "folder": str(node.path),
            "role": node.role,
            "name": node.name,
            "identity": identity,
            "key": node.key_protection(),
        }

    result = run(as_json, make)
    emit(
        as_json,
        result,
        lambda: out.print(
            f"{result['role']} node {result['name']} in {result['folder']}\n"
            f"identity (give it to the other sites): {result['identity']}"
        ),
    )


@encrypted_app.command("node-identity")
def node_identity(folder: Folder, as_json: Json = False) -> None:
    """Print a node's identity: the line the other sites pin with --peer."""
    from facegate.encrypted.node import NodeHome, identity_text

    def read() -> dict[str, Any]:
        node = NodeHome.open(folder)
        identity = identity_text(node.identity_public())
        return {"name": node.name, "identity": identity, "key": node.key_protection()}

    result = run(as_json, read)
    emit(as_json, result, lambda: out.print(result["identity"]))


def _pairs(items: list[str], option: str, example: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in items]
    if any(not sep or not name or not value for name, sep, value in pairs):
        raise InvalidInput(f"{option} takes NAME=VALUE, e.g. {option} {example}")
    return {name: value for name, _, value in pairs}


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


@encrypted_app.command("setup")
def setup(
    deployment: DeploymentId,
    decider_url: Annotated[str, Opt(help="where the decision holder node serves")],
    holder: Annotated[
        list[str], Opt(help="NAME=URL of each key holder node (or NAME=FOLDER on this host)")
    ],
    decider: Annotated[
        Path | None, Opt(help="with holder folders only: the decision holder node's folder")
    ] = None,
    threshold: Annotated[float, Opt(help="dlib's euclidean distance to accept at")] = 0.6,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Run the deployment's key ceremony at the nodes (given their URLs: this host never sees
    a key share) or, given node folders, on this host; about 20 s."""
    from facegate.encrypted.setup import set_up, set_up_at_nodes

    def act() -> dict[str, Any]:
        given = _pairs(holder, "--holder", "operator=https://holder-op.example:8443")
        urls = [_is_url(v) for v in given.values()]
        if any(urls) and not all(urls):
            raise InvalidInput("--holder takes the three nodes' URLs, or their three folders")
        if all(urls) and decider is not None:
            raise InvalidInput("a ceremony at the nodes reaches the decision holder by its URL")
        if not all(urls) and decider is None:
            raise InvalidInput("with holder folders, --decider names the decision holder's")
        with gate_for(home) as gate:
            args = (gate.core, gate.actor, deployment)
            if all(urls):
                done = set_up_at_nodes(
                    *args, decider_url=decider_url, holder_urls=given, threshold=threshold
                )
            else:
                folders = {name: Path(value) for name, value in given.items()}
                assert decider is not None  # refused above
                done = set_up(
                    *args,
                    decider_url=decider_url,
                    holders=folders,
                    decider_node=decider,
                    threshold=threshold,
                )
            return {
                "deployment_id": deployment,
                "ceremony": done.ceremony,
                "decider": done.decider,
                "made_at": done.made_at,
            }

    result = run(as_json, act)
    emit(
        as_json,
        result,
        lambda: out.print(
            f"ceremony {result['ceremony'][:16]} for {deployment}, shares made {result['made_at']}"
        ),
    )


@encrypted_app.command("node-serve")
def node_serve(
    folder: Folder,
    port: Annotated[int, Opt(help="TCP port")],
    host: Annotated[str, Opt(help="address to listen on")] = "127.0.0.1",
    holder: Annotated[list[str] | None, Opt(help="a decider: each key holder's URL")] = None,
    peer: Annotated[
        list[str] | None,
        Opt(help="a key holder before its ceremony: NAME=IDENTITY of each other node"),
    ] = None,
) -> None:
    """Serve a node until interrupted."""
    import uvicorn

    from facegate.encrypted.node import NodeHome, parse_identity
    from facegate.encrypted.service import node_app

    def make() -> Any:
        given = _pairs(peer or [], "--peer", "hsm=fgnode1:...")
        peers = {name: parse_identity(text, name) for name, text in given.items()}
        return node_app(NodeHome.open(folder), holders=holder or (), peers=peers)

    app = run(False, make)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _device(gate: Any, deployment: str, subject: str, photo: Path, act: str) -> bytes:
    """The capture device's half: asks the law first, then embeds and encrypts here."""
    gate.admit_subject(deployment, subject)  # consent in force, before the face is read
    return _encrypt(gate, deployment, photo, act)


def _encrypt(gate: Any, deployment: str, photo: Path, act: str) -> bytes:
    """Embed the photo's face and encrypt it under the deployment's joint public key."""
    from facegate.recognition import decode_image
    from facegate.templates.he.ceremony import PublicMaterial
    from facegate.templates.he.threshold import ThresholdDevice

    _, context, key = gate.encrypted_public_key(deployment)
    image = decode_image(read_image(photo, False), limits=gate.settings.recognition)
    engine = gate.core.engine
    found = engine.extract_for_enrollment(image) if act == "enroll" else engine.extract_probe(image)
    device = ThresholdDevice(PublicMaterial(context, key, b"", b""))
    try:
        return device.encrypt(found.embedding)
    finally:
        device.close()


def _act(
    act: str,
    deployment: str,
    subject: str,
    photo: Path,
    home: Path | None,
    key: str | None,
    as_json: bool,
) -> None:
    def one() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            blob = _device(gate, deployment, subject, photo, act)
            send = gate.enroll_encrypted if act == "enroll" else gate.verify_encrypted
            result: dict[str, Any] = send(deployment, subject, blob).to_dict()
            return result

    result = run(as_json, one)
    emit(as_json, result, lambda: out.print(result.get("decision") or result["template_id"]))


@encrypted_app.command("enroll")
def enroll(
    deployment: DeploymentId,
    photo: Annotated[Path, typer.Argument(help="a photo of the person", show_default=False)],
    subject: Annotated[str, Opt("--subject", "-s", help="the operator's id for the person")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Encrypt the face's embedding here and store only the ciphertext."""
    _act("enroll", deployment, subject, photo, home, key, as_json)


@encrypted_app.command("verify")
def verify(
    deployment: DeploymentId,
    photo: Annotated[Path, typer.Argument(help="a photo to check", show_default=False)],
    subject: Annotated[str, Opt("--subject", "-s", help="the operator's id for the person")],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Match or no match under encryption (the decision holder node must be running)."""
    _act("verify", deployment, subject, photo, home, key, as_json)


@encrypted_app.command("identify")
def identify(
    deployment: DeploymentId,
    photo: Annotated[Path, typer.Argument(help="a photo to search for", show_default=False)],
    home: Home = None,
    key: Key = None,
    as_json: Json = False,
) -> None:
    """Who is this, under encryption: the probe meets every encrypted template, one bit each;
    one person within the threshold is named, several are 'ambiguous'."""

    def one() -> dict[str, Any]:
        with gate_for(home, key) as gate:
            gate.admit_search(deployment)  # the deployment may search, before the face is read
            blob = _encrypt(gate, deployment, photo, "identify")
            result: dict[str, Any] = gate.identify_encrypted(deployment, blob).to_dict()
            return result

    result = run(as_json, one)
    emit(
        as_json,
        result,
        lambda: out.print(
            result["decision"] + (f" {result['subject_ref']}" if result["subject_ref"] else "")
        ),
    )
