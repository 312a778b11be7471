"""Issue 15 item 5, on a local Ray cluster (``ray.init(num_cpus=2)``): 1:N galleries sharded
across actors give one gallery's answers (real photos and simulated templates), with changes
routed to the right shard; batch enrollment against a signed roster enrolls only people on
it, writes the ledger in manifest order, and resumes after a failure."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from lawful import consent, live

from facegate.errors import InvalidInput
from facegate.flows.biometrics import load_gallery
from facegate.gate import Gate
from facegate.recognition import decode_image

ray = pytest.importorskip("ray", reason="Ray is the optional extra facegate[ray]")

from facegate.scale.cluster import connect  # noqa: E402
from facegate.scale.enroll import run_batch  # noqa: E402
from facegate.scale.roster import issue_roster, open_roster  # noqa: E402
from facegate.scale.shards import ShardedGallery, simulated_rows  # noqa: E402

pytestmark = pytest.mark.timeout(900)
PEOPLE = ["9336923", "9338535", "anpage", "asamma", "asewil", "astefa"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    connect(num_cpus=2)
    yield
    ray.shutdown()


def _lobby(gate: Gate) -> str:
    return live(gate, location="office", alternative="staff badge").id


def test_sharded_search_gives_one_gallerys_answers_on_real_photos(
    cluster: None, sqlite_gate: Gate, faces_dir: Path
) -> None:
    gate = sqlite_gate
    dep = _lobby(gate)
    for ref in PEOPLE:
        consent(gate, dep, ref)
        for k in (1, 2):
            gate.enroll(dep, ref, (faces_dir / "faces94" / ref / f"{ref}.{k}.jpg").read_bytes())
    one = load_gallery(gate.core, dep)
    n = len(one)
    with gate.db.read() as s:
        from facegate.storage import tables as t

        row = s.get(t.Deployment, dep)
        assert row is not None
        protector = gate.core.keyring.protector(row)
        ids = {ref: gate.core.subject(s, row, ref).id for ref in PEOPLE}  # type: ignore[union-attr]
    sharded = ShardedGallery(
        3, one.template_bytes, scheme=row.scheme, prefix_bytes=protector.scheme.search_prefix_bytes
    )
    try:
        sharded.add_many(one._template_ids, one._subject_ids, one._codes[:n])
        assert len(sharded) == n == 2 * len(PEOPLE)
        probes = []
        for ref in PEOPLE:
            image = decode_image((faces_dir / "faces94" / ref / f"{ref}.5.jpg").read_bytes())
            probes.append(protector.protect(gate.engine.extract_probe(image).embedding))
        for ref, probe in zip(PEOPLE, probes, strict=True):
            assert sharded.search(probe, top=3) == one.search(probe, top=3)
            assert sharded.search(probe, top=1)[0].subject_id == ids[ref]
        # a person's removal goes to their shard only, and both agree afterwards
        victim = one._subject_ids[0]
        sizes = ray.get([a.size.remote() for a in sharded.actors])
        assert sharded.remove_subject(victim) == one.remove_subject(victim) == 2
        after = ray.get([a.size.remote() for a in sharded.actors])
        assert sum(x != y for x, y in zip(sizes, after, strict=True)) == 1
        for probe in probes:
            assert sharded.search(probe, top=3) == one.search(probe, top=3)
    finally:
        sharded.close()


def test_sharded_search_is_exact_on_simulated_templates(cluster: None) -> None:
    from facegate.gallery import Gallery

    width, total = 128, 20_000
    tids, sids, matrix = simulated_rows(0, total, 7, width, 1)
    one = Gallery(width)
    one.add_many(tids, sids, matrix)
    sharded = ShardedGallery(2, width)
    try:
        sharded.add_many(tids, sids, matrix)
        rng = np.random.default_rng(1)
        for row in rng.integers(0, total, 30):
            probe = matrix[row].copy()
            probe[rng.integers(0, width, 12)] ^= 0x11  # a genuine probe: some bits flipped
            got, want = sharded.search(probe.tobytes(), top=5), one.search(probe.tobytes(), top=5)
            assert got[0] == want[0] and got[0].template_id == tids[row]
            assert [h.score for h in got] == [h.score for h in want]
        gone = [tids[0], tids[1]]
        assert sharded.remove_templates(gone, [sids[0], sids[1]]) == 2
        assert len(sharded) == total - 2
    finally:
        sharded.close()


def test_batch_enrollment_against_a_roster_resumes_in_order(
    cluster: None, sqlite_gate: Gate, faces_dir: Path, tmp_path: Path
) -> None:
    gate = sqlite_gate
    dep = _lobby(gate)
    folder = tmp_path / "photos"
    for ref in PEOPLE:
        (folder / ref).mkdir(parents=True)
        for k in (1, 2):
            shutil.copy(faces_dir / "faces94" / ref / f"{ref}.{k}.jpg", folder / ref / f"{k}.jpg")
    for ref in PEOPLE[:5]:  # PEOPLE[5] never consents: not on the roster
        consent(gate, dep, ref)
    doc = issue_roster(gate.core, dep)
    roster = open_roster(gate.core, doc, dep)
    tampered = {**doc, "refs": [*doc["refs"], "f" * 64]}
    with pytest.raises(InvalidInput, match="altered"):
        open_roster(gate.core, json.loads(json.dumps(tampered)), dep)
    gate.withdraw_consent(dep, PEOPLE[4])  # after the roster: the door refuses them

    def crash(report: object) -> None:
        raise RuntimeError("the driver died")

    with pytest.raises(RuntimeError, match="died"):
        run_batch(gate.core, gate.actor, dep, folder, roster, workers=2, chunk=4, progress=crash)
    seen: list[int] = []
    report = run_batch(
        gate.core,
        gate.actor,
        dep,
        folder,
        roster,
        workers=2,
        chunk=4,
        progress=lambda r: seen.append(r.position),
    )
    assert seen[0] == 8, "resumed after the first committed chunk"
    assert (report.status, report.total, report.position, report.enrolled) == ("done", 12, 12, 8)
    assert report.skipped == {"refused": 2, "not_on_roster": 2}
    rows = [json.loads(gate.ledger_entry(i).data) for i in range(gate.counts()["ledger_entries"])]
    batch_rows = [r["details"]["batch_row"] for r in rows if "batch_row" in r.get("details", {})]
    assert batch_rows == sorted(batch_rows) and len(batch_rows) == 8
    probe = (faces_dir / "faces94" / PEOPLE[0] / f"{PEOPLE[0]}.7.jpg").read_bytes()
    assert gate.identify(dep, probe).subject_ref == PEOPLE[0]
    again = run_batch(gate.core, gate.actor, dep, folder, roster, workers=1)
    assert (again.status, again.enrolled) == ("done", 8), "a finished job is not run twice"
