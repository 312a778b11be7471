from __future__ import annotations

import threading

import numpy as np
import pytest

from facegate.gallery import Galleries, Gallery
from facegate.templates.hazmat import hamming


def _sim(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    return 1.0 - np.unpackbits(probe ^ gallery, axis=1).mean(axis=1)


def _random(rng: np.random.Generator, n: int, width: int = 128) -> np.ndarray:
    return rng.integers(0, 256, (n, width), dtype=np.uint8)


def test_add_search_remove_without_rebuild() -> None:
    rng = np.random.default_rng(1)
    g = Gallery(16, _sim)
    templates = {f"t{i}": rng.integers(0, 256, 16, dtype=np.uint8).tobytes() for i in range(40)}
    for i, (tid, tpl) in enumerate(templates.items()):
        g.add(tid, f"s{i % 20}", tpl)
    assert len(g) == 40
    hit = g.search(templates["t7"], top=1)[0]
    assert (hit.template_id, hit.subject_id, hit.score) == ("t7", "s7", 1.0)
    assert len({h.subject_id for h in g.search(templates["t7"], top=5)}) == 5
    assert g.remove_subject("s7") == 2
    assert len(g) == 38
    assert all(h.subject_id != "s7" for h in g.search(templates["t7"], top=38))
    # Every remaining template is still found exactly where it was.
    for tid, tpl in templates.items():
        if tid not in ("t7", "t27"):
            assert g.search(tpl, top=1)[0].template_id == tid


def test_ties_are_broken_by_template_id_whatever_the_rows() -> None:
    """A person's two templates at the same distance: the answer names the smaller template
    id, before and after a removal moves rows (a sharded gallery holds them in other rows,
    and must answer as one gallery does)."""
    rng = np.random.default_rng(3)
    code = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    g = Gallery(16)
    g.add("t_other", "s_x", rng.integers(0, 256, 16, dtype=np.uint8).tobytes())
    g.add("t_b", "s_1", code)
    g.add("t_a", "s_1", code)
    assert g.search(code, top=1)[0].template_id == "t_a"
    assert g.remove_many(["t_other"]) == 1  # the last row (t_a) moves into the first
    assert g.search(code, top=1)[0].template_id == "t_a"
    g.add("t_0", "s_1", code)
    assert g.search(code, top=1)[0].template_id == "t_0"


def test_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="bytes"):
        Gallery(16, _sim).add("t", "s", b"short")
    with pytest.raises(ValueError, match="bytes"):
        Gallery(16, _sim).search(b"short")


def test_search_is_exact_against_an_exhaustive_pass() -> None:
    rng = np.random.default_rng(2)
    matrix = _random(rng, 5000)
    g = Gallery(128)
    g.add_many([f"t{i}" for i in range(5000)], [f"s{i}" for i in range(5000)], matrix)
    for probe in _random(rng, 50):
        expected = hamming.similarity_many(probe, matrix)
        hits = g.search(probe.tobytes(), top=10)
        assert [h.score for h in hits] == pytest.approx(sorted(expected, reverse=True)[:10])
        assert hits[0].score == pytest.approx(expected.max())
        assert expected[int(hits[0].template_id[1:])] == pytest.approx(hits[0].score)


def test_top_counts_people_not_templates() -> None:
    rng = np.random.default_rng(3)
    g = Gallery(128, hamming.similarity_many)
    base = _random(rng, 1)[0]
    # five templates of one person, all nearer the probe than anybody else's
    for i in range(5):
        near = base.copy()
        near[i] ^= 1
        g.add(f"alice{i}", "alice", near.tobytes())
    for i, row in enumerate(_random(rng, 200)):
        g.add(f"other{i}", f"person{i}", row.tobytes())
    hits = g.search(base.tobytes(), top=3)
    assert hits[0].subject_id == "alice"
    assert len({h.subject_id for h in hits}) == 3
    assert hits[0].score == pytest.approx(1 - 1 / 1024)


def test_add_many_skips_known_ids_and_checks_its_input() -> None:
    rng = np.random.default_rng(4)
    rows = _random(rng, 3)
    g = Gallery(128)
    g.add("t0", "s0", rows[0].tobytes())
    assert g.add_many(["t0", "t1", "t2"], ["s0", "s1", "s2"], rows.tobytes()) == 2
    assert len(g) == 3
    g.add("t1", "s1", rows[0].tobytes())  # a known id is left as it is
    assert g.search(rows[1].tobytes(), top=1)[0].template_id == "t1"
    with pytest.raises(ValueError, match="pair up"):
        g.add_many(["t3"], ["s3", "s4"], rows[:1])
    with pytest.raises(ValueError, match="repeat"):
        g.add_many(["t3", "t3"], ["s3", "s3"], rows[:2])


def test_remove_one_template_and_growth_keep_every_row() -> None:
    rng = np.random.default_rng(5)
    rows = _random(rng, 300)
    g = Gallery(128)  # starts small: grows several times
    for i, row in enumerate(rows):
        g.add(f"t{i}", f"s{i // 3}", row.tobytes())
    assert g.nbytes >= 300 * 128
    assert g.remove("t4") and not g.remove("t4")
    assert g.remove_subject("s1") == 2  # t3, t5: t4 went already
    assert g.remove_subject("s1") == 0
    assert len(g) == 297
    for i, row in enumerate(rows):
        hit = g.search(row.tobytes(), top=1)[0]
        if i in (3, 4, 5):
            assert hit.score < 0.7
        else:
            assert (hit.template_id, hit.score) == (f"t{i}", 1.0)


def test_galleries_follow_the_store() -> None:
    rng = np.random.default_rng(7)
    rows = _random(rng, 4)
    loads: list[str] = []

    def load(dep: str) -> Gallery:
        loads.append(dep)
        g = Gallery(128)
        g.add("t0", "s0", rows[0].tobytes())
        return g

    galleries = Galleries(load)
    galleries.add("dep_a", "t1", "s1", rows[1].tobytes())  # not loaded: the store has it
    assert loads == []
    g = galleries.get("dep_a")
    assert galleries.get("dep_a") is g and loads == ["dep_a"]
    galleries.add("dep_a", "t2", "s2", rows[2].tobytes())
    galleries.add("dep_a", "t3", "s2", rows[3].tobytes())
    assert len(g) == 3
    galleries.remove_templates("dep_a", ["t3", "nope"])
    assert len(g) == 2
    assert {h.template_id for h in g.search(rows[3].tobytes(), top=3)} == {"t0", "t2"}
    galleries.remove_subject("dep_a", "s2")
    galleries.remove_templates("dep_b", ["t0"])  # another deployment: nothing happens
    assert len(g) == 1


def test_large_searches_scan_slices_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from facegate import gallery as module

    monkeypatch.setattr(module, "SPLIT_FROM", 1000)
    monkeypatch.setattr(module, "available_cores", lambda: 3)
    rng = np.random.default_rng(9)
    matrix = _random(rng, 20_001)
    g = Gallery(128, hamming.similarity_many)
    g.add_many([f"t{i}" for i in range(20_001)], [f"s{i}" for i in range(20_001)], matrix)
    for i in [0, 6666, 6667, 13_334, 20_000, *rng.choice(20_001, 30, replace=False)]:
        probe = matrix[i].copy()
        probe[:30] ^= 0x11  # 60 bits off: a genuine match
        expected = hamming.similarity_many(probe, matrix)
        hits = g.search(probe.tobytes(), top=5)
        assert hits[0].template_id == f"t{i}"
        assert [h.score for h in hits] == pytest.approx(sorted(expected, reverse=True)[:5])


def test_empty_gallery_and_bad_top() -> None:
    g = Gallery(128)
    assert g.search(bytes(128)) == []
    with pytest.raises(ValueError, match="top"):
        g.search(bytes(128), top=0)


def test_searches_stay_right_while_others_add_and_remove() -> None:
    rng = np.random.default_rng(6)
    keep = _random(rng, 200)
    churn = _random(rng, 2000)
    g = Gallery(128)
    g.add_many([f"k{i}" for i in range(200)], [f"k{i}" for i in range(200)], keep)
    errors: list[str] = []
    done = threading.Event()

    def searcher(seed: int) -> None:
        picks = np.random.default_rng(seed)
        while not done.is_set():
            i = int(picks.integers(0, 200))
            hit = g.search(keep[i].tobytes(), top=1)[0]
            if hit.template_id != f"k{i}" or hit.score != 1.0:
                errors.append(f"k{i} -> {hit}")

    threads = [threading.Thread(target=searcher, args=(seed,)) for seed in range(2)]
    for thread in threads:
        thread.start()
    for i, row in enumerate(churn):
        g.add(f"c{i}", f"c{i}", row.tobytes())
        if i % 3 == 0:
            g.remove_subject(f"c{i // 2}")
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []


def _near(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of n people and a second, noisy "photo" of each, around the public mean."""
    from facegate.templates.hazmat._mean import MEAN, SPREAD

    people = np.asarray(MEAN) + SPREAD * rng.standard_normal((n, 128))
    return people, people + 0.25 * SPREAD * rng.standard_normal((n, 128))


def test_two_step_search_shortlists_on_the_first_rotation_then_ranks_whole_templates() -> None:
    from facegate.templates.scheme import get_scheme

    scheme = get_scheme("biohash-v1:4096")
    assert scheme.search_prefix_bytes == 128
    assert get_scheme("biohash-v1").search_prefix_bytes is None
    seed = bytes(range(32))
    rng = np.random.default_rng(9)
    people, probes = _near(rng, 3000)
    matrix = scheme.protect_many(people, seed)
    g = Gallery(512, scheme.similarity_many, prefix_bytes=128)
    g.add_many([f"t{i}" for i in range(3000)], [f"s{i}" for i in range(3000)], matrix)
    assert g.nbytes >= 3000 * (512 + 128)
    for i, probe in enumerate(scheme.protect_many(probes[:40], seed)):
        hits = g.search(probe.tobytes(), top=3)
        exhaustive = scheme.similarity_many(probe, matrix)
        # scores are whole-template similarities, and the best equals the exhaustive best
        assert hits[0].score == pytest.approx(exhaustive.max())
        assert hits[0].template_id == f"t{i}"
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # removals move rows in both matrices: everyone left is still found
    assert g.remove_subject("s5") == 1
    assert g.remove("t0")
    for i in (1, 2999, 1500):
        tpl = matrix[i].tobytes()
        assert g.search(tpl, top=1)[0].template_id == f"t{i}"
    assert all(h.template_id not in ("t0", "t5") for h in g.search(matrix[5].tobytes(), top=20))


def test_a_prefix_must_be_shorter_than_the_template() -> None:
    with pytest.raises(ValueError, match="prefix"):
        Gallery(128, prefix_bytes=128)
    with pytest.raises(ValueError, match="prefix"):
        Gallery(128, prefix_bytes=0)
