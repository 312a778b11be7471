"""A bad FACEGATE_* setting is a clear configuration error, in the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import fg

from facegate.config import load_settings
from facegate.errors import ConfigError
from facegate.gate import Gate


def test_unknown_scheme_and_out_of_range_values_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_TEMPLATES__SCHEME", "biohash-v9")  # v2 exists now
    monkeypatch.setenv("FACEGATE_RECOGNITION__DETECT_UPSAMPLE", "9")
    with pytest.raises(ConfigError) as caught:
        load_settings(home=tmp_path)
    message = str(caught.value)
    assert "FACEGATE_TEMPLATES__SCHEME" in message and "biohash-v1" in message
    assert "FACEGATE_RECOGNITION__DETECT_UPSAMPLE" in message
    assert caught.value.advice and "FACEGATE_" in caught.value.advice
    with pytest.raises(ConfigError):
        Gate.open(tmp_path / "home")
    assert not (tmp_path / "home").exists()  # nothing was created
    monkeypatch.setenv("FACEGATE_TEMPLATES__SCHEME", "biohash-v1:2048")
    monkeypatch.delenv("FACEGATE_RECOGNITION__DETECT_UPSAMPLE")
    assert load_settings(home=tmp_path).templates.scheme == "biohash-v1:2048"


def test_the_cli_reports_it_as_json_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_TEMPLATES__SCHEME", "nope")
    proc = fg(tmp_path / "home", "deployment", "list", "--json", ok=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    body = json.loads(proc.stdout or proc.stderr)
    assert body["error"] == "config_error"
    assert "FACEGATE_TEMPLATES__SCHEME" in body["message"]
