"""Issue 15 item 3: the master key in an HSM (SoftHSM2 through PKCS#11), never on the host.

Deployment keys and the ledger key are wrapped and unwrapped inside the token; the home holds
no master.key; the key cannot be read out of the token; a token without the key stops the
start loudly; a second host with the same token and database opens the same templates; a
rotation to a new key in the token re-wraps everything under it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lawful import consent, live
from softhsm_support import MODULE, PIN

from facegate.config import HsmSettings, Settings
from facegate.errors import ConfigError, InvalidTemplate
from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.templates import MasterKey
from facegate.templates.hazmat import keys

Photo = Callable[[str], bytes]


def _hsm(label: str, *previous: str) -> HsmSettings:
    return HsmSettings(
        module=MODULE, token="facegate", pin=PIN, label=label, previous_labels=list(previous)
    )


def test_templates_open_only_through_the_hsm_and_on_a_second_host(
    token: str, pg_url: str, tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    a_settings = Settings(home=tmp_path / "a", database_url=pg_url, hsm=_hsm("fg-master-1"))
    with Gate.open(settings=a_settings, engine=face_engine, create=True) as a:
        dep = live(a, location="office", alternative="staff badge").id
        consent(a, dep, "obama")
        a.enroll(dep, "obama", photo("fixtures/obama.jpg"))
        master = a.core.keyring._master
        assert type(master).__name__ == "HsmMaster"
        import pkcs11

        with pytest.raises(pkcs11.exceptions.PKCS11Error):  # sensitive: never read out
            master._key[pkcs11.Attribute.VALUE]
        with a.db.read() as s:
            wrapped = s.get(t.Deployment, dep).wrapped_key  # type: ignore[union-attr]
    assert not any(p.name.startswith("master.key") for p in (tmp_path / "a").iterdir())
    # no key a host could hold opens the stored deployment key
    with pytest.raises(InvalidTemplate):
        keys.unwrap_key(MasterKey.generate().key, wrapped, context=keys.deployment_key_context(dep))
    (tmp_path / "b").mkdir(mode=0o700)
    b_settings = a_settings.model_copy(update={"home": tmp_path / "b"})
    with Gate.open(settings=b_settings, engine=face_engine) as b:
        assert b.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"
        assert b.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "obama"


def test_a_token_without_the_key_is_refused_and_rotation_moves_to_a_new_key(
    token: str, tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    settings = Settings(home=tmp_path / "h", hsm=_hsm("fg-master-2"))
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate, location="office", alternative="staff badge").id
        consent(gate, dep, "obama")
        gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
        old_id = gate.core.keyring.master_key_id
    missing = settings.model_copy(update={"hsm": _hsm("no-such-key")})
    with pytest.raises(ConfigError, match="holds no AES key labelled 'no-such-key'"):
        Gate.open(settings=missing, engine=face_engine)
    # a new key made in the token (as an operator would with their HSM's tools), the old one
    # accepted for unwrapping until the rotation re-wrapped everything
    from facegate.hsm import open_hsm

    open_hsm(_hsm("fg-master-3"), create=True)
    rotating = settings.model_copy(update={"hsm": _hsm("fg-master-3", "fg-master-2")})
    with Gate.open(settings=rotating, engine=face_engine) as gate:
        rotation = gate.rotate_master_key()
        assert (rotation.old_key_id, rotation.rewrapped) == (old_id, 2)  # deployment + ledger
    after = settings.model_copy(update={"hsm": _hsm("fg-master-3")})
    with Gate.open(settings=after, engine=face_engine) as gate:
        assert gate.core.keyring.master_key_id == rotation.new_key_id != old_id
        assert gate.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"
