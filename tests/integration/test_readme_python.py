"""The README's Python example runs as written, on a fresh home (a newcomer copies it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from cli_runner import SRC

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## In Python") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's 'In Python' section has no python block"
    return found.group(1)


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": SRC}
    env.pop("FACEGATE_HOME", None)
    proc = subprocess.run(
        [sys.executable, "-c", _python_block()],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    decision, code = proc.stdout.split()
    assert decision == "match"
    assert len(code) >= 8
    home = tmp_path / ".facegate"  # '~' was expanded, and the home is private
    assert home.is_dir() and (home.stat().st_mode & 0o077) == 0
