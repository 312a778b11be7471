"""The command line over many photos (a folder, a CSV manifest, stdin) and the recognition
verbs of issue 17 (detect, compare, flag, thresholds, alerts, liveness challenges), run as a
user runs them: a separate process, output piped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import SRC, fg
from lawful import consent, live
from recognition_support import PAD_SAMPLES, degraded

from facegate import __version__
from facegate.config import Settings
from facegate.gate import Gate

PASSIVE: list[str] = []


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A home with a live deployment (alerts on) where obama and biden consented, and one
    that asks for an active liveness challenge where vstros consented."""
    home = tmp_path_factory.mktemp("cli") / "home"
    with Gate.open(settings=Settings(home=home), create=True) as gate:
        dep = live(gate, unknown_alerts=True).id
        consent(gate, dep, "obama")
        consent(gate, dep, "biden")
        guarded = live(gate, liveness_challenge=True).id
        consent(gate, guarded, "vstros")
        passive = live(gate, name="Passive liveness", liveness=True).id
        for person in ("alice", "obama", "obama-b"):
            consent(gate, passive, person)
    PASSIVE.append(passive)
    return home, dep, guarded


def _piped(home: Path, *args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args, "--home", str(home)],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=300,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )


def test_version() -> None:
    assert fg(None, "--version").stdout.strip() == f"facegate {__version__}"


def test_folder_manifest_and_stdin(
    home: tuple[Path, str, str], faces_dir: Path, tmp_path: Path
) -> None:
    h, dep, _ = home
    fx = faces_dir / "fixtures"
    people = tmp_path / "people"
    (people / "obama").mkdir(parents=True)
    shutil.copy(fx / "obama.jpg", people / "obama" / "portrait.jpg")
    shutil.copy(fx / "biden.jpg", people / "biden.jpg")
    shutil.copy(fx / "knn/train/kit_harington/john1.jpeg", people / "kit.jpg")
    enrolled = fg(h, "enroll", "-d", dep, str(people), ok=False)
    lines = enrolled.stdout.splitlines()
    assert [line.split(",")[:2] for line in lines] == [
        [str(people / "biden.jpg"), "enrolled"],
        [str(people / "kit.jpg"), "policy_denied:CN-FR-6"],  # kit never consented
        [str(people / "obama" / "portrait.jpg"), "enrolled"],
    ]
    assert enrolled.returncode == 4  # the first failure's exit status: a legal refusal
    assert "3/3 photos processed" in enrolled.stderr  # progress goes to stderr

    manifest = tmp_path / "check.csv"
    manifest.write_text(f"file,subject\n{fx / 'obama2.jpg'},obama\n{fx / 'biden.jpg'},obama\n")
    verified = fg(h, "verify", "-d", dep, str(manifest)).stdout.splitlines()
    assert [line.rsplit(",", 1)[0] for line in verified] == [
        f"{fx / 'obama2.jpg'},match",
        f"{fx / 'biden.jpg'},no_match",
    ]
    paths = f"{fx / 'obama2.jpg'}\n{fx / 'knn/train/kit_harington/john1.jpeg'}\n".encode()
    who = _piped(h, "identify", "-d", dep, "-", stdin=paths)
    assert who.returncode == 0, who.stderr
    assert who.stdout.decode().splitlines() == [
        f"{fx / 'obama2.jpg'},obama",
        f"{fx / 'knn/train/kit_harington/john1.jpeg'},unknown_person",
    ]
    photo = _piped(h, "identify", "-d", dep, "-", "--json", stdin=(fx / "obama2.jpg").read_bytes())
    (one,) = json.loads(photo.stdout)
    assert one["file"] == "-" and one["result"]["subject_ref"] == "obama"


def test_detect_compare_flag_thresholds_alerts(
    home: tuple[Path, str, str], faces_dir: Path
) -> None:
    h, dep, _ = home
    fx = faces_dir / "fixtures"
    faces = fg(h, "detect", "-d", dep, str(faces_dir / "in_the_wild/couple.jpg")).stdout
    assert len(faces.splitlines()) == 2 and all(len(x.split(",")) == 6 for x in faces.splitlines())
    same = fg(h, "compare", "-d", dep, str(fx / "obama.jpg"), str(fx / "obama2.jpg")).stdout
    assert same.startswith(f"{fx / 'obama.jpg'},{fx / 'obama2.jpg'},match,")
    kit = str(fx / "knn/train/kit_harington/john2.jpeg")  # nobody enrolled him
    stranger = json.loads(fg(h, "identify", "-d", dep, kit, "--json").stdout)
    assert stranger["decision"] == "unknown"
    fg(h, "flag", stranger["event_id"], "--verdict", "false_reject", "--note", "it is kit")
    report = fg(h, "thresholds", "-d", dep).stdout.splitlines()
    assert report[0].startswith("threshold,") and report[1].endswith(",0,1")
    alerts = [a.split(",") for a in fg(h, "alerts", "-d", dep).stdout.splitlines()]
    assert any(len(a) == 3 and len(a[2]) == 64 for a in alerts)


def test_a_liveness_challenge_from_the_command_line(
    home: tuple[Path, str, str], faces_dir: Path
) -> None:
    h, _, guarded = home
    frames = [str(faces_dir / f"faces94/vstros/vstros.{i}.jpg") for i in (1, 2, 8)]
    args = ("liveness", "challenge", "-d", guarded, "-s", "vstros", "--act", "enroll")
    done = fg(h, *args, "--challenge", "blink", *frames).stdout.strip()
    challenge_id, kind, passed = done.split(",")
    assert (kind, passed) == ("blink", "True")
    without = fg(h, "enroll", "-d", guarded, "-s", "vstros", frames[0], ok=False)
    assert without.returncode == 3 and "challenge" in without.stderr
    fg(h, "enroll", "-d", guarded, "-s", "vstros", "--challenge", challenge_id, frames[0])


def test_top_n_quality_and_passive_liveness(
    home: tuple[Path, str, str], faces_dir: Path, tmp_path: Path
) -> None:
    h, dep, passive = home[0], home[1], PASSIVE[0]
    fx = faces_dir / "fixtures"
    manifest = tmp_path / "people.csv"
    manifest.write_text(f"file,subject\n{fx / 'obama.jpg'},obama\n{fx / 'obama3.jpg'},obama-b\n")
    fg(h, "enroll", "-d", passive, str(manifest))
    top = fg(h, "identify", "-d", passive, "--top", "2", str(fx / "obama2.jpg")).stdout
    assert [line.split(",")[1] for line in top.splitlines()] == ["obama", "obama-b"]
    assert all(float(line.split(",")[2]) >= 0.8 for line in top.splitlines())
    spoof = fg(
        h, "enroll", "-d", passive, "-s", "alice", str(PAD_SAMPLES / "image_F1.jpg"), ok=False
    )
    assert spoof.returncode == 3 and "liveness check" in spoof.stderr
    blurred = tmp_path / "blurred.jpg"
    blurred.write_bytes(degraded((fx / "obama.jpg").read_bytes(), "blur"))
    refused = fg(h, "enroll", "-d", dep, "-s", "obama", str(blurred), ok=False)
    assert refused.returncode == 3 and "blurred" in refused.stderr and "hint:" in refused.stderr
