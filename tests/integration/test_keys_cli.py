"""``facegate keys``: status, rotate-master, finish-rotation, revoke, campaign."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lawful import consent, live
from typer.testing import CliRunner

from facegate.cli.main import app
from facegate.config import Settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.templates import MasterKey


def _json(args: list[str], code: int = 0) -> dict[str, object]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, dict)
    return out


def test_keys_commands(tmp_path: Path, face_engine: FaceEngine) -> None:
    home = tmp_path / "home"
    with Gate.open(settings=Settings(home=home), engine=face_engine, create=True) as gate:
        dep = live(gate, name="Lobby").id
        consent(gate, dep, "alice")
    h = ["--home", str(home), "--json"]
    old = MasterKey.from_file(home / "master.key")

    status = _json(["keys", "status", *h])
    assert status["master_key_id"] == old.key_id and status["rotation_in_progress"] is False

    rotated = _json(["keys", "rotate-master", *h])
    assert rotated["old_key_id"] == old.key_id and rotated["rewrapped"] == 2
    assert MasterKey.from_file(home / "master.key").key_id == rotated["new_key_id"]
    assert _json(["keys", "status", *h])["previous_key_ids"] == [old.key_id]

    finished = _json(["keys", "finish-rotation", *h])
    assert finished["retired_key_ids"] == [old.key_id]
    assert not (home / "master.key.previous").exists()
    _json(["keys", "finish-rotation", *h], code=6)  # nothing in progress: a conflict

    revoked = _json(["keys", "revoke", "-d", dep, "--reason", "yearly renewal", *h])
    assert revoked["to_reenroll"] == ["alice"] and revoked["reason"] == "yearly renewal"
    campaign = _json(["keys", "campaign", "-d", dep, *h])
    assert campaign["pending"] == 1
    assert [e["subject_ref"] for e in campaign["entries"]] == ["alice"]  # type: ignore[index,union-attr]


def test_rotate_master_refuses_to_invent_a_key_for_an_env_master(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_MASTER_KEY", MasterKey.generate().to_base64())
    monkeypatch.delenv("FACEGATE_NEW_MASTER_KEY", raising=False)
    out = _json(["keys", "rotate-master", "--home", str(tmp_path / "home"), "--json"], code=3)
    assert "new one must be given" in str(out["message"])
    assert not list((tmp_path / "home").glob("master.key*"))
