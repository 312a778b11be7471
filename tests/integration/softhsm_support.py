"""A SoftHSM2 token for the tests that keep keys in an HSM (the ``token`` fixture of
``conftest.py``): one per test session, since SoftHSM2 reads its configuration once per
process."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

MODULE: Final = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN: Final = "20261206"
TOKEN: Final = "facegate"


def make_token(where: Path) -> str:
    util = shutil.which("softhsm2-util")
    if util is None or not MODULE.exists():
        pytest.skip("SoftHSM2 is not installed (apt-get install -y softhsm2)")
    (where / "tokens").mkdir()
    conf = where / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {where / 'tokens'}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", PIN],
        check=True,
        capture_output=True,
    )
    return TOKEN
