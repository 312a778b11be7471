"""The official CompreFace Python SDK (``compreface-sdk`` from PyPI) as the client of a real
``facegate serve`` on loopback: add subject, add face, recognize, verify, detect, delete, as
a CompreFace application calls them, with a service key made by ``facegate apikey create
--deployment DEP``. The lawful mapping shows through: a person without consent is refused
citing the rule, a stranger is recognized as nobody, no embedding is ever returned, and no
photo is kept."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import types
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_runner import SRC, fg
from lawful import consent, live

from facegate.config import Settings
from facegate.gate import Gate

# compreface-sdk 0.6.0 (its latest release) pins requests-toolbelt 0.9.1, which imports
# urllib3 1.x's Google App Engine module when it is imported, and never uses it off App
# Engine; urllib3 2 dropped that module. An empty stand-in lets the SDK import unchanged.
sys.modules.setdefault("urllib3.contrib.appengine", types.ModuleType("urllib3.contrib.appengine"))
compreface = pytest.importorskip("compreface", reason="pip install '.[dev]' (compreface-sdk)")


@dataclass(frozen=True)
class Served:
    home: Path
    port: int
    key: str
    unscoped_key: str
    deployment_id: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"facegate serve exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail("facegate serve did not answer /healthz")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("compreface") / "home"
    with Gate.open(settings=Settings(home=home), create=True) as gate:
        dep = live(gate).id
        for person in ("obama", "biden"):
            consent(gate, dep, person)
        unscoped = gate.issue_api_key(label="not a service key").key
    made = fg(home, "apikey", "create", "--deployment", dep, "--label", "compreface", "--json")
    key = json.loads(made.stdout)["key"]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "facegate.cli", "serve", "--home", str(home), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", proc)
        yield Served(home, port, key, unscoped, dep)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _no_embedding(answer: Any) -> None:
    text = json.dumps(answer)
    assert "embedding" not in text, text


def test_the_sdk_calls_pass_against_facegate_serve(served: Served, faces_dir: Path) -> None:
    def path(rel: str) -> str:
        return str(faces_dir / rel)

    client = compreface.CompreFace("http://127.0.0.1", str(served.port), {"prediction_count": 3})
    recognition = client.init_face_recognition(served.key)
    subjects, faces = recognition.get_subjects(), recognition.get_face_collection()

    # add subject: only someone whose consent is in force
    assert subjects.add("obama") == {"subject": "obama"}
    no_consent = subjects.add("stranger")
    assert (no_consent["error"], no_consent["rule_id"]) == ("policy_denied", "CN-FR-6")

    # add face (an enrollment); refused, citing the rule, for someone without consent
    obama = faces.add(path("fixtures/obama.jpg"), "obama")
    assert obama["subject"] == "obama" and obama["image_id"].startswith("tpl_")
    biden = faces.add(path("fixtures/biden.jpg"), "biden")
    refused = faces.add(path("fixtures/knn/train/kit_harington/john1.jpeg"), "kit")
    assert refused["error"] == "policy_denied" and refused["rule_id"] == "CN-FR-6"
    listed = faces.list()
    assert {(f["subject"], f["image_id"]) for f in listed["faces"]} == {
        ("obama", obama["image_id"]),
        ("biden", biden["image_id"]),
    }
    assert listed["total_elements"] == 2 and subjects.list() == {"subjects": ["biden", "obama"]}

    # recognize: the person, above the threshold; a stranger is nobody, with no score
    found = recognition.recognize(path("fixtures/obama2.jpg"))
    (face,) = found["result"]
    assert [s["subject"] for s in face["subjects"]] == ["obama"]
    assert face["subjects"][0]["similarity"] >= face["facegate"]["threshold"]
    assert face["box"]["x_min"] < face["box"]["x_max"]
    stranger = recognition.recognize(path("fixtures/knn/train/kit_harington/john1.jpeg"))
    assert stranger["result"][0]["subjects"] == []
    embedding = recognition.recognize(path("fixtures/obama2.jpg"), {"face_plugins": "calculator"})
    assert embedding["error"] == "invalid_input" and "embedding" in embedding["message"]

    # verify: a photo against a saved face, and two photos with the verification service
    checked = faces.verify(path("fixtures/obama2.jpg"), obama["image_id"])
    assert checked["result"][0]["facegate"]["decision"] == "match"
    verification = client.init_face_verification(served.key)
    pair = verification.verify(path("fixtures/obama.jpg"), path("fixtures/biden.jpg"))
    (match,) = pair["result"][0]["face_matches"]
    assert match["facegate"]["decision"] == "no_match" and 0 <= match["similarity"] < 1
    assert "box" in pair["result"][0]["source_image_face"]

    # detect: every face, with landmarks when asked
    detection = client.init_face_detection(served.key)
    seen = detection.detect(
        path("in_the_wild/selfie-many-people.jpg"), {"face_plugins": "landmarks"}
    )
    assert len(seen["result"]) == 4
    assert all(
        len(f["landmarks"]) == 5 and 0.5 <= f["box"]["probability"] < 1 for f in seen["result"]
    )

    for answer in (found, stranger, checked, pair, seen, listed):
        _no_embedding(answer)

    # delete: one face, all faces of a subject, a subject (erased), everyone
    assert faces.delete(biden["image_id"]) == {"image_id": biden["image_id"], "subject": "biden"}
    assert faces.delete_all("obama") == {"deleted": 1}
    assert faces.list()["total_elements"] == 0
    assert subjects.list() == {"subjects": ["biden", "obama"]}  # deleting faces keeps people
    assert subjects.delete("obama") == {"subject": "obama"}
    assert subjects.list() == {"subjects": ["biden"]}
    assert subjects.delete_all() == {"deleted": 1}
    assert subjects.list() == {"subjects": []}


def test_keys_and_photos(served: Served, faces_dir: Path) -> None:
    """Only a key scoped to a deployment serves; no uploaded photo is kept anywhere."""
    client = compreface.CompreFace("http://127.0.0.1", str(served.port))
    unscoped = client.init_face_recognition(served.unscoped_key).get_subjects().list()
    assert unscoped["error"] == "forbidden"
    unknown = client.init_face_recognition("not-a-key").get_subjects().list()
    assert unknown["error"] == "unauthenticated"
    photo = (faces_dir / "fixtures/obama3.jpg").read_bytes()
    detection = client.init_face_detection(served.key)
    assert len(detection.detect(str(faces_dir / "fixtures/obama3.jpg"))["result"]) == 1
    probe = photo[len(photo) // 2 : len(photo) // 2 + 64]
    for file in served.home.rglob("*"):
        if file.is_file():
            assert probe not in file.read_bytes(), f"{file} holds bytes of the uploaded photo"
