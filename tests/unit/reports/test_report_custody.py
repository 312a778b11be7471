"""How the master key is held, as reports state it: every kind, from what is really there."""

from __future__ import annotations

from pathlib import Path

import pytest

from facegate.config import HsmSettings
from facegate.masters import custody
from facegate.reports.measures import CUSTODY, technical_measures
from facegate.templates import MasterKey
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME, ScryptParams


def test_each_way_of_holding_the_master_key_is_told_apart(tmp_path: Path) -> None:
    clear, sealed, empty = tmp_path / "clear", tmp_path / "sealed", tmp_path / "empty"
    for home in (clear, sealed, empty):
        home.mkdir()
    MasterKey.create_file(clear / MASTER_KEY_FILENAME)
    MasterKey.create_file(
        sealed / MASTER_KEY_FILENAME, passphrase="correct horse", scrypt=ScryptParams(n=2**14)
    )
    assert custody(clear, env_value=None, hsm=None) == "file-clear"
    assert custody(sealed, env_value=None, hsm=None) == "file-passphrase"
    # no key file, no environment, no HSM: the keyring was rebuilt from custodians' shares
    assert custody(empty, env_value=None, hsm=None) == "shares"
    assert custody(clear, env_value="a2V5", hsm=None) == "environment"
    hsm = HsmSettings(module=Path("/usr/lib/softhsm/libsofthsm2.so"))
    assert custody(clear, env_value="a2V5", hsm=hsm) == "hsm"


@pytest.mark.parametrize("kind", sorted(CUSTODY))
def test_reports_say_what_must_be_stolen_together(kind: str) -> None:
    items = technical_measures(
        scheme="biohash-v1:4096", model_version="m", ledger_size=1, custody=kind
    )
    said = next(i.value for i in items if i.label.startswith("What must be stolen together"))
    assert CUSTODY[kind] in said
    assert ("open nothing" in said) == (kind != "file-clear")
