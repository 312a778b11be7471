"""Issue 12 item 10: what a newcomer installing facegate gets. The wheel carries its demo
photos (with credits), the licence and its runtime dependencies (httpx for ``witness
--url``); the demo runs outside the repository; piped CLI output is not cut at 80 columns."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from cli_runner import SRC, fg
from lawful import ANSWERS, NECESSITY, OPERATOR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel ``pip install .`` would install, built from a copy of the sources (the
    build writes build/ and egg-info beside them) with the installed setuptools."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(tree),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("facegate-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_demo_photos_licence_and_runtime_dependencies(
    wheel: zipfile.ZipFile,
) -> None:
    names = set(wheel.namelist())
    photos = {n for n in names if n.startswith("facegate/demo/") and n.endswith(".jpg")}
    assert len(photos) >= 5 and "facegate/demo/CREDITS.md" in names
    credits = wheel.read("facegate/demo/CREDITS.md").decode()
    assert all(Path(p).name in credits for p in photos)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(wheel.read(meta_name).decode())
    runtime = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    for needed in ("httpx", "limits", "prometheus-client"):
        assert any(r.lower().startswith(needed) for r in runtime), runtime
    assert "bench" in (meta.get_all("Provides-Extra") or [])
    assert "Apache-2.0" in (meta.get("License-Expression") or meta.get("License") or "")


def _outside(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI run from a folder outside the repository, output piped, no COLUMNS."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FACEGATE_FACES")}
    return subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_demo_runs_outside_the_repository(tmp_path: Path) -> None:
    proc = _outside(tmp_path, "demo", "--home", str(tmp_path / "home"), "--json")
    assert proc.returncode == 0, proc.stderr
    steps = {s["step"]: s for s in json.loads(proc.stdout)["steps"]}
    assert steps["verify another photo of Barack"]["decision"] == "match"
    assert steps["identify a stranger"]["who"] == "unknown"


def test_piped_output_is_not_wrapped_and_ids_are_whole(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    fg(home, "operator", "set", *[a for k, v in OPERATOR.items() for a in ("--" + k, v)])
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    long_name = "North gate of the residential compound, building 7, beside the bicycle shed"
    dep = json.loads(
        fg(
            home,
            "deployment",
            "create",
            "--name",
            long_name,
            "--purpose",
            "Residents open the compound gate by face",
            "--location",
            "residential_compound",
            "--alternative",
            "key card",
            "--jurisdiction",
            "cn",
            "--legal-basis",
            "consent",
            "--retention-days",
            "365",
            "--capability",
            "verify",
            "--signage",
            "--no-alternative-penalty",
            "--pia",
            str(answers),
            "--json",
        ).stdout
    )["id"]
    dpo = json.loads(
        fg(home, "principal", "create", "--name", "DPO", "--role", "dpo", "--json").stdout
    )
    key = str(dpo["api_key"]["key"])
    fg(home, "--key", key, "pia", "sign", "-d", dep, "--necessity", NECESSITY)  # the notice
    listing = _outside(tmp_path, "deployment", "list", "--home", str(home))
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if dep in line)
    assert long_name in row  # one line, nothing cut or wrapped
    notice = _outside(tmp_path, "deployment", "notice", "-d", dep, "--home", str(home))
    assert any(len(line) > 80 for line in notice.stdout.splitlines())
