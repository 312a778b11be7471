"""``facegate bench protection`` and ``facegate bench lfw`` on real photos: the JSON report's
shape, and figures that must hold on any data (attacks, renewability, unlinkability)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from facegate.cli.main import app
from facegate.evaluation import JSON_KEYS, Options, datasets, folder_report, lfw_report
from facegate.evaluation.embeddings import EmbeddingCache
from facegate.recognition import FaceEngine
from facegate.templates import DEFAULT_SCHEME, available_schemes, get_scheme


@pytest.fixture(scope="module")
def lfw_dir(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LFW-format set made from the shared photos (10 people, 2 folds of 12)."""
    out = tmp_path_factory.mktemp("lfw")
    datasets.write_lfw_fixture(
        [faces_dir / "celebrities", faces_dir / "fixtures" / "knn" / "train"],
        out,
        folds=2,
        per_fold=12,
        seed=3,
    )
    return out


@pytest.fixture(scope="module")
def cache_file(
    lfw_dir: Path, face_engine: FaceEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """Embeddings of the fixture, made once with the shared engine; the CLI reuses them."""
    path = tmp_path_factory.mktemp("cache") / "embeddings.npz"
    cache = EmbeddingCache(lambda: face_engine, path)
    cache.embed(sorted(p for p in lfw_dir.rglob("*_0*.*")))
    cache.save()
    yield path


def test_lfw_fixture_is_in_the_official_format(lfw_dir: Path) -> None:
    lines = (lfw_dir / "pairs.txt").read_text().splitlines()
    assert lines[0].split() == ["2", "12"]
    assert len(lines) == 1 + 2 * 2 * 12
    pairs = datasets.read_lfw_pairs(lfw_dir / "pairs.txt", lfw_dir)
    assert [p.same for p in pairs[:24]] == [True] * 12 + [False] * 12
    assert {p.fold for p in pairs} == {0, 1}
    for p in pairs:
        assert p.a.parent.name in p.a.name and p.a.is_file()


def test_pairs_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.txt"
    bad.write_text("2 1\nalice 1 2\n")
    with pytest.raises(Exception, match="promises 2 folds"):
        datasets.read_lfw_pairs(bad, tmp_path)


def _run(args: list[str]) -> dict[str, object]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    start = result.stdout.rindex('{\n  "default"')
    report = json.loads(result.stdout[start:])
    assert isinstance(report, dict)
    return report


def _check_shape(report: dict[str, object]) -> dict[str, dict[str, object]]:
    assert set(report) == {"default", "schemes"}
    schemes = report["schemes"]
    assert isinstance(schemes, dict)
    assert report["default"] == DEFAULT_SCHEME and DEFAULT_SCHEME in schemes
    assert set(schemes) == {*available_schemes(), DEFAULT_SCHEME}
    for name, figures in schemes.items():
        assert list(figures) == list(JSON_KEYS), name
        assert figures["template_bytes"] == get_scheme(name).template_bytes
        for key in ("accuracy", "unprotected_accuracy", "eer", "dsys", "renewed_match_rate"):
            assert 0.0 <= figures[key] <= 1.0, (name, key)
        assert figures["comparisons_per_s"] > 0
    return schemes


def test_bench_lfw_cli(lfw_dir: Path, cache_file: Path, tmp_path: Path) -> None:
    report = _run(
        [
            "bench",
            "lfw",
            "--images",
            str(lfw_dir),
            "--pairs",
            str(lfw_dir / "pairs.txt"),
            "--json",
            "--quick",
            "--targets",
            "4",
            "--rows",
            "20000",
            "--cache",
            str(cache_file),
            "--home",
            str(tmp_path / "home"),
        ]
    )
    schemes = _check_shape(report)
    for figures in schemes.values():
        assert figures["tar_at_far_1e4"] is None  # too few impostor pairs to measure it


def test_bench_protection_cli(
    faces_dir: Path, cache_file: Path, lfw_dir: Path, tmp_path: Path
) -> None:
    # The LFW fixture is also a DIR/<person>/<photo> folder, with its embeddings cached.
    report = _run(
        [
            "bench",
            "protection",
            str(lfw_dir),
            "--json",
            "--quick",
            "--targets",
            "4",
            "--rows",
            "20000",
            "--cache",
            str(cache_file),
            "--home",
            str(tmp_path / "home"),
        ]
    )
    _check_shape(report)


def test_figures_that_hold_on_any_data(lfw_dir: Path, cache_file: Path) -> None:
    cache = EmbeddingCache(lambda: pytest.fail("every photo is cached"), cache_file)
    options = Options(keys=3, attack_targets=6, speed_rows=10_000)
    report = folder_report(lfw_dir, options=options, cache=cache)
    by_name = {s.name: s for s in report.schemes}
    bio = by_name["biohash-v1"]
    # With the key, a biohash-v1 template gives its embedding back: the attack must succeed
    # (if it did not, the attack would be broken, not the scheme strong).
    assert bio.stolen_key_attack_acceptance == 1.0
    assert bio.attack_methods.get("inversion", 0) >= 5
    for s in report.schemes:
        # a person's revoked and re-issued templates do not match each other
        assert s.renewed_match_rate is not None and s.renewed_match_rate <= s.fmr_at_threshold
        assert s.dsys is not None and s.dsys < 0.25  # few photos: the estimator is noisy
    # the default scheme stays close to the raw embedding (phasefold-v1 need not: narrow
    # folds cost accuracy on uncontrolled photos, see docs/template-protection.md)
    default = by_name[DEFAULT_SCHEME]
    assert abs(default.accuracy - default.unprotected_accuracy) < 0.03
    lfw = lfw_report(lfw_dir, lfw_dir / "pairs.txt", options=options, cache=cache)
    assert lfw.genuine + lfw.impostor == 48 - lfw.dropped_pairs
    assert np.isclose(lfw.unprotected.accuracy, lfw.schemes[0].unprotected_accuracy)


def test_the_bounds_behave_at_their_extremes(lfw_dir: Path, cache_file: Path) -> None:
    """The ideal accept/reject template and the secure sketch, on real photos."""
    from facegate.evaluation.oracle import oracle_figures
    from facegate.evaluation.report import attack_targets, unprotected_figures
    from facegate.evaluation.sketch import sketch_figures
    from facegate.templates.hazmat._mean import MEAN

    cache = EmbeddingCache(lambda: pytest.fail("every photo is cached"), cache_file)
    photos = datasets.folder_photos(lfw_dir)
    data = datasets.folder_comparisons("fixture", photos, cache.embed(photos.paths))
    raw = unprotected_figures(data)
    targets = attack_targets(data, 10, np.random.default_rng(0))
    common = {
        "unprotected_accuracy": raw.accuracy,
        "reference_threshold": raw.reference_threshold,
        "targets": targets,
    }
    mean_face = float(
        np.mean(np.linalg.norm(data.embeddings[targets] - MEAN, axis=1) <= raw.reference_threshold)
    )
    # a ball that takes everything is the raw system, and any guess opens it
    wide = oracle_figures(data, radius=10.0, **common)
    assert wide.accuracy == pytest.approx(raw.accuracy)
    assert wide.stolen_key_attack_acceptance == 1.0
    # a ball that takes nothing leaves the attacker only the mean face, which needs no key
    shut = oracle_figures(data, radius=0.0, **common)
    assert shut.stolen_key_attack_acceptance == pytest.approx(mean_face)
    assert shut.accuracy < raw.accuracy
    # the sketch decides as the raw system does once opened, so it is never more accurate;
    # the attacker keeps at least the mean face
    sketch = sketch_figures(data, alpha=8, **common)
    assert sketch.accuracy <= raw.accuracy + 1e-9
    assert sketch.stolen_key_attack_acceptance >= mean_face
    assert round(sketch.codebook_bits) == 48
