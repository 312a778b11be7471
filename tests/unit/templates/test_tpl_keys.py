"""The key hierarchy: HKDF labels, key ids, wrapping, and the master key file."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from facegate._internal.clock import Entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.templates.hazmat import keys
from facegate.templates.hazmat.master_key import MasterKey, ScryptParams

# --- HKDF sub-keys and key ids -------------------------------------------------------------


def test_each_purpose_has_its_own_subkey(key: bytes) -> None:
    labels = [keys.TEMPLATE_TRANSFORM, keys.SUBJECT_REF, keys.LEDGER_PSEUDONYM]
    derived = [keys.derive(key, label=label) for label in labels]
    assert len(set(labels)) == len(set(derived)) == 3
    assert all(len(d) == 32 and d != key for d in derived)
    assert keys.derive(key, label=keys.SUBJECT_REF) == derived[1]  # deterministic


def test_subkeys_depend_on_the_key(key: bytes, other_key: bytes) -> None:
    label = keys.TEMPLATE_TRANSFORM
    assert keys.derive(key, label=label) != keys.derive(other_key, label=label)


@pytest.mark.parametrize("label", ["", "tab\there", "ünïcode"])
def test_bad_labels_are_refused(key: bytes, label: str) -> None:
    with pytest.raises(ValueError, match="label"):
        keys.derive(key, label=label)


def test_key_id_is_a_short_fingerprint(key: bytes, other_key: bytes) -> None:
    kid = keys.key_id(key)
    assert len(kid) == 16 and int(kid, 16) >= 0
    assert kid == keys.key_id(key) != keys.key_id(other_key)
    assert kid not in key.hex()


def test_constant_time_equal(key: bytes, other_key: bytes) -> None:
    assert keys.constant_time_equal(key, bytes(key))
    assert not keys.constant_time_equal(key, other_key)


def test_new_keys_are_random() -> None:
    assert keys.new_key() != keys.new_key()
    assert len(keys.new_key()) == 32
    with pytest.raises(ValueError):
        keys.new_key(lambda n: b"\x00" * (n - 1))


# --- wrapping ------------------------------------------------------------------------------


def test_wrap_unwrap_round_trip(key: bytes, other_key: bytes) -> None:
    ctx = keys.data_key_context("dep_1", "sub_1")
    blob = keys.wrap_key(key, other_key, context=ctx)
    assert other_key not in blob
    assert keys.unwrap_key(key, blob, context=ctx) == other_key


def test_unwrap_fails_opaquely(key: bytes, other_key: bytes) -> None:
    ctx = keys.data_key_context("dep_1", "sub_1")
    blob = keys.wrap_key(key, other_key, context=ctx)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    cases = [
        (other_key, blob, ctx),  # wrong key-encryption key
        (key, blob, keys.data_key_context("dep_1", "sub_2")),  # another subject's row
        (key, blob, keys.deployment_key_context("dep_1")),  # another kind of key
        (key, tampered, ctx),
    ]
    messages = set()
    for kek, b, c in cases:
        with pytest.raises(InvalidTemplate) as err:
            keys.unwrap_key(kek, b, context=c)
        messages.add(str(err.value))
    assert len(messages) == 1


def test_only_keys_are_wrapped(key: bytes) -> None:
    with pytest.raises(ValueError):
        keys.wrap_key(key, b"short", context="x")


def test_wrap_uses_injected_entropy(
    key: bytes, other_key: bytes, make_entropy: Callable[..., Entropy]
) -> None:
    a = keys.wrap_key(key, other_key, context="c", entropy=make_entropy())
    b = keys.wrap_key(key, other_key, context="c", entropy=make_entropy())
    assert a == b
    other = keys.wrap_key(key, other_key, context="c", entropy=make_entropy(b"other"))
    assert other != a  # uses it: a wrap that ignored the entropy would be equal too


def test_contexts_refuse_separator_in_ids() -> None:
    assert keys.deployment_key_context("dep_1") == "deployment-key|dep_1"
    assert keys.data_key_context("dep_1", "sub_1") == "data-key|dep_1|sub_1"
    with pytest.raises(ValueError):
        keys.data_key_context("dep|1", "sub_1")
    with pytest.raises(ValueError):
        keys.data_key_context("dep_1", "")
    with pytest.raises(ValueError):
        keys.wrap_key(bytes(32), bytes(32), context="")


# --- the master key ------------------------------------------------------------------------


def test_master_key_never_shows_itself(key: bytes) -> None:
    master = MasterKey(key)
    assert key.hex() not in repr(master)
    assert base64.b64encode(key).decode() not in repr(master)
    assert master.key_id in repr(master)


def test_master_key_equality_and_base64(key: bytes, other_key: bytes) -> None:
    master = MasterKey(key)
    assert MasterKey.from_base64(master.to_base64()) == master
    assert master != MasterKey(other_key)
    assert hash(master) == hash(MasterKey(key))
    with pytest.raises(ValueError):
        MasterKey(b"short")


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(bytes(16)).decode(), ""])
def test_bad_env_key_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        MasterKey.from_base64(text)


def test_create_file_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "home" / "master.key"
    master = MasterKey.create_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert MasterKey.from_file(path) == master
    doc = json.loads(path.read_text())
    assert doc["key_id"] == master.key_id and doc["protection"] == "none"


def test_create_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = MasterKey.create_file(path)
    with pytest.raises(ConfigError, match="overwrite"):
        MasterKey.create_file(path)
    assert MasterKey.from_file(path) == first


def test_create_file_survives_a_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        MasterKey.create_file(tmp_path / "master.key")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_readable_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "master.key"
    MasterKey.create_file(path)
    path.chmod(mode)
    with pytest.raises(ConfigError) as err:
        MasterKey.from_file(path)
    assert "other users" in str(err.value)
    assert f"chmod 600 {path}" in err.value.advice


def test_missing_or_damaged_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no master key file"):
        MasterKey.from_file(tmp_path / "absent.key")
    path = tmp_path / "master.key"
    MasterKey.create_file(path)
    doc = json.loads(path.read_text())
    doc["key"] = base64.b64encode(bytes(32)).decode()  # key no longer matches its id
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="damaged"):
        MasterKey.from_file(path)
    path.write_text("garbage")
    with pytest.raises(ConfigError, match="not a readable"):
        MasterKey.from_file(path)


def test_passphrase_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    master = MasterKey.create_file(path, passphrase="correct horse battery staple")
    text = path.read_text()
    assert master.to_base64() not in text
    assert json.loads(text)["protection"] == "scrypt"
    assert MasterKey.from_file(path, passphrase="correct horse battery staple") == master


def test_passphrase_is_unicode_normalised(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    master = MasterKey.create_file(path, passphrase="caf\u00e9")  # precomposed é
    assert MasterKey.from_file(path, passphrase="cafe\u0301") == master  # e + combining


def test_wrong_passphrase_is_opaque(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    MasterKey.create_file(path, passphrase="right")
    with pytest.raises(InvalidTemplate) as wrong:
        MasterKey.from_file(path, passphrase="wrong")
    doc = json.loads(path.read_text())
    sealed = bytearray(base64.b64decode(doc["sealed"]))
    sealed[-1] ^= 1
    doc["sealed"] = base64.b64encode(bytes(sealed)).decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidTemplate) as altered:
        MasterKey.from_file(path, passphrase="right")
    assert str(wrong.value) == str(altered.value)
    assert "right" not in str(wrong.value)


def test_kdf_parameters_are_bound(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    MasterKey.create_file(path, passphrase="pw", scrypt=ScryptParams(n=2**14))
    doc = json.loads(path.read_text())
    doc["scrypt"]["n"] = 2**15
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidTemplate):
        MasterKey.from_file(path, passphrase="pw")
    doc["scrypt"]["n"] = 2**40  # a crafted file must not make us allocate terabytes
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="damaged"):
        MasterKey.from_file(path, passphrase="pw")


def test_passphrase_mismatches_are_config_errors(tmp_path: Path) -> None:
    plain, locked = tmp_path / "plain.key", tmp_path / "locked.key"
    MasterKey.create_file(plain)
    MasterKey.create_file(locked, passphrase="pw")
    with pytest.raises(ConfigError, match="not passphrase-protected"):
        MasterKey.from_file(plain, passphrase="pw")
    with pytest.raises(ConfigError, match="protected by a passphrase"):
        MasterKey.from_file(locked)
    with pytest.raises(ValueError, match="empty passphrase"):
        MasterKey.create_file(tmp_path / "empty.key", passphrase="")


def test_load_or_create(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "master.key"
    created = MasterKey.load_or_create(path)
    assert path.exists()
    assert MasterKey.load_or_create(path) == created
    env = MasterKey(key).to_base64()
    assert MasterKey.load_or_create(path, env_value=env) == MasterKey(key)


def test_scrypt_params_are_bounded() -> None:
    for bad in ({"n": 2**13}, {"n": 3 * 2**14}, {"n": 2**21}, {"r": 0}, {"p": 99}):
        with pytest.raises(ValueError):
            ScryptParams(**bad)
