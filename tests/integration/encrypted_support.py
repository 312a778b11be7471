"""A deployment with threshold encrypted verification and its four nodes, each a separate
``facegate encrypted node-serve`` process on loopback, set up through the command line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cli_runner import SRC, fg
from hypothesis import strategies as st

from facegate.templates.he.ceremony import HOLDERS

#: any JSON value, for junk bodies (the nodes' routes must answer it with a 4xx)
JUNK_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    folder: Path
    port: int
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["encrypted", "node-serve", str(self.folder), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "facegate.cli", *args, *self.extra],
            env={**os.environ, "PYTHONPATH": SRC, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.stderr.read().decode() if self.proc.stderr else "")
            try:
                if httpx.get(f"{self.url}/v1/about", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"the node in {self.folder} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None


def init_nodes(root: Path, *, hsm_env: dict[str, str] | None = None) -> dict[str, Node]:
    """The four node folders (``node-init``); a key holder serves with its peers' identities
    pinned, as the other sites would hand them over. With ``hsm_env`` (FACEGATE_HSM__*), the
    hsm holder's node key is made in that token (``--hsm``)."""
    nodes = {name: Node(root / name, free_port()) for name in HOLDERS}
    holder_urls = [arg for n in nodes.values() for arg in ("--holder", n.url)]
    nodes["decider"] = Node(root / "decider", free_port(), tuple(holder_urls))
    identities = {}
    for name, node in nodes.items():
        role = "decider" if name == "decider" else "holder"
        extra = ["--json"]
        if name == "hsm" and hsm_env:
            node.env = dict(hsm_env)
            extra.append("--hsm")
        made = fg(
            None, "encrypted", "node-init", str(node.folder), "--role", role, "--name", name,
            *extra, env=node.env or None,
        )  # fmt: skip
        identities[name] = json.loads(made.stdout)["identity"]
    for name in HOLDERS:
        peers = [
            a
            for other, ident in identities.items()
            if other != name
            for a in ("--peer", f"{other}={ident}")
        ]
        nodes[name].extra = tuple(peers)
    return nodes


def setup_args(deployment_id: str, nodes: dict[str, Node]) -> list[str]:
    """``encrypted setup`` at the nodes: their URLs only."""
    holders = [a for name in HOLDERS for a in ("--holder", f"{name}={nodes[name].url}")]
    return [
        "encrypted",
        "setup",
        "-d",
        deployment_id,
        "--decider-url",
        nodes["decider"].url,
        *holders,
    ]


@contextmanager
def nodes_for(
    home: Path, deployment_id: str, root: Path, *, database_url: str | None = None
) -> Iterator[dict[str, Node]]:
    """Make the four node folders, serve them, run the ceremony for the deployment at the
    nodes (the API host never sees a key share)."""
    nodes = init_nodes(root)
    try:
        for node in nodes.values():
            node.start()
        fg(
            home, *setup_args(deployment_id, nodes),
            env={"FACEGATE_DATABASE_URL": database_url} if database_url else None,
        )  # fmt: skip
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
