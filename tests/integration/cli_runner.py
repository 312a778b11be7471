"""Run the ``facegate`` command line in a separate process, as a user would."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

SRC = str(Path(__file__).resolve().parents[2] / "src")


def fg(
    home: Path | None, *args: str, ok: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``facegate ARGS --home HOME``; with ``ok``, fail the test unless it exits 0; ``env``
    adds to the environment (``FACEGATE_DATABASE_URL``, say)."""
    extra = ["--home", str(home)] if home is not None else []
    proc = subprocess.run(
        [sys.executable, "-m", "facegate.cli", *args, *extra],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200", **(env or {})},
    )
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


#: ``deployment create`` options for a lawful deployment under cn (every legal fact given)
CN_ARGS = (
    "--name", "Gate",
    "--purpose", "Residents open the compound gate by face",
    "--location", "residential_compound",
    "--alternative", "key card",
    "--jurisdiction", "cn",
    "--legal-basis", "consent",
    "--retention-days", "365",
    "--capability", "verify",
    "--capability", "identify",
    "--capture", "on_request",
    "--signage",
    "--no-alternative-penalty",
)  # fmt: skip
NECESSITY = "Key cards are lent and copied; the card stays free for everyone who prefers it."


def pia_answers(tmp: Path) -> Path:
    """A JSON file with the assessment's answers (written by people, as the law asks)."""
    from lawful import ANSWERS

    path = tmp / "pia-answers.json"
    path.write_text(json.dumps(ANSWERS), encoding="utf-8")
    return path


def operator_ready(home: Path) -> None:
    """Name the operator, its contact and DPO (go-live is refused without them)."""
    fg(
        home,
        "operator",
        "set",
        *("--name", "Test Property Management"),
        *("--contact", "+86 21 5555 0100", "--dpo", "Wang Fang, dpo@x"),
    )


def dpo_key(home: Path, name: str = "Test DPO") -> str:
    """A principal with the dpo role, and its key (created once per home)."""
    cached = home / f".test-dpo-{name.replace(' ', '_')}"
    if not cached.exists():
        r = fg(home, "principal", "create", "--name", name, "--role", "dpo", "--json")
        cached.write_text(json.loads(r.stdout)["api_key"]["key"], encoding="utf-8")
    return cached.read_text(encoding="utf-8")


def sign(home: Path, dep: str) -> dict[str, Any]:
    """The DPO signs the deployment's assessment: it goes live."""
    r = fg(home, "--key", dpo_key(home), "pia", "sign", "-d", dep, "--necessity", NECESSITY,
           "--json")  # fmt: skip
    signed: dict[str, Any] = json.loads(r.stdout)
    return signed


def draft(home: Path, *args: str, base: tuple[str, ...] = CN_ARGS) -> dict[str, Any]:
    """``deployment create`` with ``base`` and ``args`` (a repeated option: the last wins;
    a list option such as --capability adds up, so pass a different ``base`` to drop one),
    with the assessment's answers from a file: a draft."""
    operator_ready(home)
    answers = pia_answers(home.parent)
    r = fg(home, "deployment", "create", *base, *args, "--pia", str(answers), "--json")
    created: dict[str, Any] = json.loads(r.stdout)
    return created


def live(home: Path, *args: str, base: tuple[str, ...] = CN_ARGS) -> dict[str, Any]:
    """A draft (see :func:`draft`) signed by the DPO: a live deployment."""
    return sign(home, draft(home, *args, base=base)["id"])


def consent_args(ref: str) -> tuple[str, ...]:
    """``consent give`` options for a written consent of an adult."""
    digest = hashlib.sha256(f"signed consent form: {ref}".encode()).hexdigest()
    return ("--method", "signed_form", "--form", digest, "--adult-attested")
