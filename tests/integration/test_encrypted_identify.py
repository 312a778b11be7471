"""Identify (1:N) with threshold encrypted templates as a service (issue 16): the probe
meets every encrypted template of the deployment, 128 to a block, and the decision holder
node learns one bit a template. The decisions equal the clear search over the same gallery;
the law is asked before the ciphertext is read and before anyone is named; no score exists
anywhere; a remote-identification match waits for two reviewers (on PostgreSQL)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest
from cli_runner import fg
from encrypted_support import nodes_for
from fastapi.testclient import TestClient
from lawful import PACK_SPEC, consent, live, refused
from recognition_support import leaves_since, size

from facegate.api.app import create_app
from facegate.config import Settings
from facegate.encrypted.setup import EncryptedSetup
from facegate.errors import Conflict, InvalidCiphertext
from facegate.gate import Gate
from facegate.recognition import FaceEngine, decode_image
from facegate.storage import tables as t
from facegate.templates.he.ceremony import PublicMaterial
from facegate.templates.he.parties import one_embedding
from facegate.templates.he.threshold import (
    POSITIONS,
    QUANT,
    ThresholdDevice,
    threshold_available,
)

if not threshold_available():
    pytest.skip("OpenFHE's interpreter is missing (make install makes it)", allow_module_level=True)

pytestmark = pytest.mark.slow  # two key ceremonies at four node processes each

Photo = Callable[[str], bytes]
#: two photos of one man under two references: a search for a third is ambiguous
TWINS = {"obama": "fixtures/obama.jpg", "obama-b": "fixtures/obama3.jpg"}
PROBES = (
    "fixtures/obama2.jpg",
    "fixtures/knn/train/kit_harington/john1.jpeg",
    "fixtures/knn/train/rose_leslie/img2.jpg",
    "faces94/anpage/anpage.12.jpg",
    "faces94/vstros/vstros.15.jpg",
    "faces94/9336923/9336923.14.jpg",
    "celebrities/madonna/mad.jpg",
)


@dataclass(frozen=True)
class Faces:
    """The gallery (reference, embedding) and the probes (path, embedding), embedded once."""

    gallery: list[tuple[str, np.ndarray]]
    probes: list[tuple[str, np.ndarray]]


def _embed(engine: FaceEngine, data: bytes, *, enroll: bool) -> np.ndarray | None:
    try:
        image = decode_image(data)
        found = engine.extract_for_enrollment(image) if enroll else engine.extract_probe(image)
    except Exception:  # no face or a photo the quality gate refuses: not in this gallery
        return None
    return np.asarray(found.embedding)


@pytest.fixture(scope="module")
def faces(face_engine: FaceEngine, faces_dir: Path, photo: Photo) -> Faces:
    """More than one block: five photos of each faces94 and celebrity person, then one
    photo each of people in the wild, the twins and the knn people."""
    wanted: list[tuple[str, str]] = list(TWINS.items())
    for folder in ("faces94", "celebrities"):
        for person in sorted(p for p in (faces_dir / folder).iterdir() if p.is_dir()):
            shots = sorted(f for f in person.iterdir() if f.is_file())
            wanted += [(person.name, str(f.relative_to(faces_dir))) for f in shots[:5]]
    for name in ("alex_lacamoire", "biden", "rose_leslie"):
        knn = faces_dir / "fixtures" / "knn" / "train" / name
        wanted.append((name, str(sorted(knn.iterdir())[0].relative_to(faces_dir))))
    wild = sorted((faces_dir / "in_the_wild").glob("img*.jpg"))
    wanted += [(f"wild-{f.stem}", str(f.relative_to(faces_dir))) for f in wild]
    gallery: list[tuple[str, np.ndarray]] = []
    for ref, rel in wanted:
        if rel in PROBES:
            continue
        embedding = _embed(face_engine, photo(rel), enroll=True)
        if embedding is not None:
            gallery.append((ref, embedding))
        if len(gallery) == POSITIONS + 12:
            break
    probes = [(rel, _embed(face_engine, photo(rel), enroll=False)) for rel in PROBES]
    assert all(e is not None for _, e in probes)
    return Faces(gallery, [(r, e) for r, e in probes if e is not None])


@dataclass
class World:
    gate: Gate
    dep: str
    device: ThresholdDevice
    client: TestClient
    auth: dict[str, str]
    now: list[datetime]
    #: a deployment that declared verification only (made before any test moves the clock:
    #: the command line's own process keeps the real time)
    verify_only: str = ""

    def identify(self, blob: bytes, dep: str | None = None) -> httpx.Response:
        files = {"ciphertext": ("probe.bin", blob, "application/octet-stream")}
        url = f"/v1/deployments/{dep or self.dep}/encrypted/identify"
        answer: httpx.Response = self.client.post(url, headers=self.auth, files=files)
        return answer


@contextmanager
def _world(
    root: Path, engine: FaceEngine, database_url: str | None, **spec: object
) -> Iterator[World]:
    """A deployment (``spec``) with its four nodes set up, on a gate whose clock tests move."""
    now = [datetime.now(UTC)]
    settings = Settings(home=root / "home", database_url=database_url)
    with Gate.open(settings=settings, engine=engine, clock=lambda: now[0], create=True) as gate:
        dep = live(gate, **spec).id
        with nodes_for(gate.settings.home, dep, root, database_url=database_url):
            _, context, key = gate.encrypted_public_key(dep)
            device = ThresholdDevice(PublicMaterial(context, key, b"", b""))
            auth = {"Authorization": f"Bearer {gate.issue_api_key(label='device').key}"}
            with TestClient(create_app(gate)) as client:
                verify_only = live(gate, capabilities=["verify"], capture=None).id
                yield World(gate, dep, device, client, auth, now, verify_only)
            device.close()


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, face_engine: FaceEngine, faces: Faces
) -> Iterator[World]:
    """SQLite: the gallery of :func:`faces` enrolled encrypted (two blocks)."""
    root = tmp_path_factory.mktemp("encrypted-identify")
    with _world(root, face_engine, None, unknown_alerts=True) as w:
        for ref in dict.fromkeys(ref for ref, _ in faces.gallery):
            consent(w.gate, w.dep, ref)
        for ref, embedding in faces.gallery:
            w.gate.enroll_encrypted(w.dep, ref, w.device.encrypt(embedding))
        yield w


def _units(embedding: np.ndarray) -> np.ndarray:
    """The integers a capture device encrypts (each value times QUANT, rounded)."""
    return np.array([round(v * QUANT) for v in one_embedding(embedding)], dtype=np.int64)


def _expected(faces: Faces, probe: np.ndarray, threshold: float) -> tuple[str, set[str]]:
    """The clear search, in the integers the encrypted one computes with exactly: everyone
    with a template within the threshold (and, as a check, the float search agrees but for
    templates on the threshold itself)."""
    tt, mine = round(threshold**2 * QUANT**2), _units(probe)
    near = set()
    for ref, e in faces.gallery:
        inside = int(np.sum((_units(e) - mine) ** 2)) <= tt
        distance = float(np.linalg.norm(e - probe))
        assert abs(distance - threshold) < 1e-3 or inside == (distance <= threshold)
        if inside:
            near.add(ref)
    return ("match" if len(near) == 1 else "ambiguous" if near else "unknown"), near


def test_decisions_equal_the_clear_search_across_blocks(world: World, faces: Faces) -> None:
    setup = EncryptedSetup.load(world.gate.core, world.dep)
    assert len(faces.gallery) > POSITIONS  # the probe meets two blocks
    seen = set()
    for rel, embedding in faces.probes:
        decision, near = _expected(faces, embedding, setup.threshold)
        before = size(world.gate)
        r = world.identify(world.device.encrypt(embedding))
        assert r.status_code == 200, r.text
        got = r.json()
        assert "score" not in got and got["gallery_size"] == len(faces.gallery), got
        assert (got["decision"], got["matched_people"]) == (decision, len(near)), rel
        assert got["subject_ref"] == (next(iter(near)) if decision == "match" else None)
        leaves = leaves_since(world.gate, before)
        search = next(leaf for leaf in leaves if leaf["kind"] == "identify")
        assert search["details"]["decision"] == decision and search["details"]["score"] is None
        assert search["details"]["scheme"] == got["scheme"]
        alerts = [leaf for leaf in leaves if leaf["kind"] == "alert.unknown_face"]
        assert len(alerts) == (decision == "unknown")  # the deployment asks for them
        seen.add(decision)
    assert seen == {"match", "ambiguous", "unknown"}


def test_the_law_is_asked_before_the_ciphertext_and_before_anyone_is_named(
    world: World, face_engine: FaceEngine, photo: Photo
) -> None:
    gate, verify_only = world.gate, world.verify_only
    before = size(gate)
    r = world.identify(b"junk: never read", dep=verify_only)  # refused, not a 422
    assert r.status_code == 403 and "CN-SPC-2" in r.json()["rule_ids"], r.text
    refused(gate, "CN-SPC-2", lambda: gate.identify_encrypted(verify_only, b"junk"))
    refused(gate, "CN-SPC-2", lambda: gate.admit_search(verify_only))
    assert all(leaf["kind"] == "policy.denied" for leaf in leaves_since(gate, before))
    # the one person found is named while their consent is in force, and not after it
    # expired (no sweep yet); withdrawn, their templates leave the encrypted gallery
    hopkins = [_embed(face_engine, photo(f"fixtures/Anthony_Hopkins_000{i}.jpg"), enroll=True)
               for i in (1, 2)]  # fmt: skip
    enrolled, probe = (world.device.encrypt(e) for e in hopkins if e is not None)
    consent(gate, world.dep, "late", expires_at=world.now[0] + timedelta(days=1))
    gate.enroll_encrypted(world.dep, "late", enrolled)
    found = gate.identify_encrypted(world.dep, probe)
    assert (found.decision, found.subject_ref) == ("match", "late")
    world.now[0] += timedelta(days=2)
    refused(gate, "CN-FR-6", lambda: gate.identify_encrypted(world.dep, probe))
    gate.withdraw_consent(world.dep, "late")
    gone = gate.identify_encrypted(world.dep, probe)
    assert (gone.decision, gone.gallery_size) == ("unknown", found.gallery_size - 1)


def test_bad_input_is_refused_and_changes_nothing(world: World) -> None:
    before = size(world.gate)
    for blob in (b"", b"not a ciphertext", os.urandom(5000)):
        r = world.identify(blob)
        assert r.status_code == 422 and r.json()["error"] == "invalid_ciphertext", r.text
    with pytest.raises(InvalidCiphertext):
        world.gate.identify_encrypted(world.dep, b"\x00" * 100)
    assert size(world.gate) == before  # nothing decided, nothing recorded
    liveness = live(world.gate, liveness=True).id
    with pytest.raises(Conflict, match="liveness"):
        world.gate.identify_encrypted(liveness, b"x")
    r = world.client.post(
        f"/v1/deployments/{world.dep}/encrypted/identify", headers=world.auth, files={}
    )
    assert r.status_code == 422, r.text


def test_the_command_line_is_a_capture_device(world: World, faces_dir: Path) -> None:
    home, door = world.gate.settings.home, str(faces_dir / PROBES[4])
    done = fg(home, "encrypted", "identify", "-d", world.dep, door, "--json")
    got = json.loads(done.stdout)
    assert got["decision"] == "match" and got["subject_ref"] == "vstros", got
    no = fg(home, "encrypted", "identify", "-d", world.verify_only, door, ok=False)
    assert no.returncode != 0 and "CN-SPC-2" in no.stderr + no.stdout


REMOTE = {
    **PACK_SPEC["eu"],
    "capabilities": ["remote_identification"],
    "legal_basis": "substantial_public_interest",
    "capture": "in_view",
}


@pytest.mark.postgres
def test_a_remote_identification_match_waits_for_two_reviewers_on_postgres(
    tmp_path: Path, face_engine: FaceEngine, pg_server: str, faces: Faces
) -> None:
    """EU-AI-14 under encryption: the match is held, nobody named, no score stored; two
    reviewers name the person. On PostgreSQL, migrated to the nullable score."""
    name = f"facegate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg_server.rsplit('/', 1)[0]}/{name}"
    try:
        with _world(tmp_path, face_engine, url, **REMOTE) as w:
            consent(w.gate, w.dep, "anna")
            twin = dict(faces.gallery)
            w.gate.enroll_encrypted(w.dep, "anna", w.device.encrypt(twin["obama"]))
            probe = w.device.encrypt(dict(faces.probes)[PROBES[0]])
            held = w.gate.identify_encrypted(w.dep, probe)
            assert (held.decision, held.subject_ref) == ("pending", None)
            assert held.identification_id is not None
            with w.gate.db.read() as s:
                row = s.get(t.Identification, held.identification_id)
                assert row is not None and row.score is None and row.gallery_size == 1
            queue = w.client.get("/v1/identifications", headers=w.auth)
            assert queue.status_code == 200, queue.text
            (item,) = [i for i in queue.json() if i["identification_id"] == row.id]
            assert item["score"] is None
            reviewers = [
                w.gate.acting_as(w.gate.create_principal(n, "reviewer").api_key.key)
                for n in ("Reviewer One", "Reviewer Two")
            ]
            first = reviewers[0].review_identification(held.identification_id, confirm=True)
            assert (first.status, first.subject_ref, first.score) == ("pending", None, None)
            second = reviewers[1].review_identification(held.identification_id, confirm=True)
            assert (second.status, second.subject_ref) == ("confirmed", "anna")
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_template_erased_mid_search_makes_it_read_the_gallery_again(
    world: World, faces: Faces, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing still names a template an erasure took: the search reads the gallery
    again rather than answer about two galleries (or fail)."""
    from facegate.flows import encrypted_identify as flow

    real, calls = flow._gallery, []

    def stale(*args: object) -> list[tuple[str, str]]:
        listed = real(*args)  # type: ignore[arg-type]
        calls.append(len(listed))
        return [*listed, ("etp_erased", listed[0][1])] if len(calls) == 1 else listed

    monkeypatch.setattr(flow, "_gallery", stale)
    probe = world.device.encrypt(dict(faces.probes)[PROBES[4]])
    found = world.gate.identify_encrypted(world.dep, probe)
    assert (found.decision, found.subject_ref, len(calls)) == ("match", "vstros", 2)
    monkeypatch.setattr(flow, "_gallery", lambda *a: [*real(*a), ("etp_erased", "sub_x")])
    with pytest.raises(Conflict, match="changed during the search"):
        world.gate.identify_encrypted(world.dep, probe)
