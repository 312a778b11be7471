"""``facegate bench pad DIR`` on a small folder built from real photos: the figures, the
JSON line, photos that cannot be processed, and bad folders and thresholds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facegate.cli.main import app

SAMPLES = (
    Path(__file__).resolve().parents[2].parent / "shared/data/models/silent-face-anti-spoofing"
)


@pytest.fixture(scope="module")
def pad_dir(faces_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """live: two shared photos, the authors' live sample and one damaged file;
    attack: the authors' printed photo directly, their screen replay as species 'replay'."""
    root = tmp_path_factory.mktemp("pad")
    (root / "live").mkdir()
    (root / "attack" / "replay").mkdir(parents=True)
    shutil.copy(faces_dir / "fixtures" / "obama.jpg", root / "live")
    shutil.copy(faces_dir / "fixtures" / "biden.jpg", root / "live")
    shutil.copy(SAMPLES / "image_T1.jpg", root / "live")
    (root / "live" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    shutil.copy(SAMPLES / "image_F1.jpg", root / "attack")
    shutil.copy(SAMPLES / "image_F2.jpg", root / "attack" / "replay")
    return root


def _invoke(args: list[str], home: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--home", str(home)])
    return result.exit_code, result.stdout, result.stderr


def test_figures_and_json(pad_dir: Path, tmp_path: Path) -> None:
    code, stdout, stderr = _invoke(["bench", "pad", str(pad_dir), "--json"], tmp_path)
    assert code == 0, stdout + stderr
    report = json.loads(stdout.strip().splitlines()[-1])
    assert (report["apcer"], report["bpcer"], report["acer"]) == (0.0, 0.0, 0.0)
    assert report["bona_fide"] == {"presented": 3, "refused": 0, "not_processed": 1}
    assert set(report["attack_species"]) == {"attack", "replay"}
    assert report["attack_species"]["replay"]["presented"] == 1
    photos = {p["path"]: p for p in report["photos"]}
    assert photos["live/broken.jpg"]["error"] is not None
    assert photos["live/broken.jpg"]["score"] is None
    assert photos["attack/replay/image_F2.jpg"]["class"] == "attack/replay"
    assert photos["attack/image_F1.jpg"]["score"] < 0.5 < photos["live/image_T1.jpg"]["score"]
    assert "BPCER 0.00%" in stderr and "APCER attack/replay: 0.00%" in stderr


def test_a_strict_threshold_refuses_live_faces(pad_dir: Path, tmp_path: Path) -> None:
    code, stdout, _ = _invoke(
        ["bench", "pad", str(pad_dir), "--threshold", "1.0", "--json"], tmp_path
    )
    assert code == 0
    report = json.loads(stdout.strip().splitlines()[-1])
    assert report["bpcer"] == 1.0 and report["apcer"] == 0.0 and report["acer"] == 0.5


def test_human_output(pad_dir: Path, tmp_path: Path) -> None:
    code, stdout, _ = _invoke(["bench", "pad", str(pad_dir)], tmp_path)
    assert code == 0
    assert "BPCER 0.00%  (0 of 3 live photos refused; 1 not processed)" in stdout
    assert "APCER 0.00% (worst species)  ACER 0.00%" in stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing", "is not a folder"),
        (lambda root: root, "needs a live/ and an attack/ folder"),
    ],
)
def test_bad_folders_exit_3(tmp_path: Path, make: object, message: str) -> None:
    assert callable(make)
    code, stdout, _ = _invoke(["bench", "pad", str(make(tmp_path)), "--json"], tmp_path)
    assert code == 3
    assert message in json.loads(stdout.strip().splitlines()[-1])["message"]


def test_bad_threshold_exits_3(pad_dir: Path, tmp_path: Path) -> None:
    code, stdout, _ = _invoke(
        ["bench", "pad", str(pad_dir), "--threshold", "0", "--json"], tmp_path
    )
    assert code == 3
    assert json.loads(stdout.strip().splitlines()[-1])["error"] == "invalid_input"
