"""The master key: the root of the key hierarchy (:mod:`.keys`), from the environment or a
private key file, optionally protected by a passphrase (scrypt + AES-256-GCM)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Self

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from facegate._internal.clock import Entropy, system_entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.templates.hazmat import aead
from facegate.templates.hazmat.keys import (
    KEY_BYTES,
    _check_key,
    constant_time_equal,
    key_id,
    new_key,
)

__all__ = ["MASTER_KEY_FILENAME", "MasterKey", "ScryptParams"]

MASTER_KEY_FILENAME: Final = "master.key"
_FILE_AD: Final = "facegate/v1/master-key-file"
_FILE_KIND: Final = "facegate-master-key"
_FILE_VERSION: Final = 1


# --- the master key ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """Cost of turning a passphrase into the key-file key. The default takes ~60 ms and
    32 MiB, per RFC 7914's interactive-login guidance; the bounds stop a crafted key file
    from asking for gigabytes."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if self.n < 2**14 or self.n > 2**20 or self.n & (self.n - 1):
            raise ValueError(f"scrypt n is a power of two from 2**14 to 2**20, got {self.n}")
        if not 1 <= self.r <= 32 or not 1 <= self.p <= 16:
            raise ValueError(f"scrypt r must be 1..32 and p 1..16, got r={self.r} p={self.p}")


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        # NFC, so the same passphrase typed on two keyboards/OSes gives the same bytes.
        passphrase = unicodedata.normalize("NFC", passphrase).encode()
    if not passphrase:
        raise ValueError("an empty passphrase protects nothing; give one or none")
    return passphrase


def _file_kek(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=params.n, r=params.r, p=params.p).derive(
        passphrase
    )


def _file_ad(salt: bytes, params: ScryptParams) -> bytes:
    # Binding the KDF parameters means an edited file fails to open rather than silently
    # deriving with weaker settings.
    return aead.encode_context(_FILE_AD, salt, f"{params.n},{params.r},{params.p}")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


@dataclass(frozen=True, slots=True, eq=False)
class MasterKey:
    """The root of the key hierarchy; wraps deployment keys and nothing else.

    ``repr`` shows the key id, never the key. Equality is constant-time.
    """

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key(self.key, "master key")

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return constant_time_equal(self.key, other.key)

    def __hash__(self) -> int:
        return hash(self.key_id)

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    @classmethod
    def generate(cls, entropy: Entropy = system_entropy) -> Self:
        return cls(new_key(entropy))

    @classmethod
    def from_base64(cls, text: str) -> Self:
        """Read the key from ``FACEGATE_MASTER_KEY``-style base64 text."""
        try:
            raw = _b64decode(text)
        except (binascii.Error, ValueError):
            raise ConfigError(
                "the master key is not valid base64",
                advice="Set FACEGATE_MASTER_KEY to 32 random bytes in base64, e.g. from:\n"
                "  python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'",
            ) from None
        if len(raw) != KEY_BYTES:
            raise ConfigError(
                f"the master key is {len(raw)} bytes; it must be {KEY_BYTES}",
                advice="Set FACEGATE_MASTER_KEY to 32 random bytes in base64.",
            )
        return cls(raw)

    def to_base64(self) -> str:
        return base64.b64encode(self.key).decode()

    # --- key files ---

    @classmethod
    def create_file(
        cls,
        path: Path,
        *,
        passphrase: str | bytes | None = None,
        entropy: Entropy = system_entropy,
        scrypt: ScryptParams | None = None,
    ) -> Self:
        """Generate a master key and write it to a new file of mode 0600; refuse to overwrite.

        With ``passphrase`` the key is stored encrypted under a scrypt-derived key.
        """
        master = cls.generate(entropy)
        master.write_file(path, passphrase=passphrase, entropy=entropy, scrypt=scrypt)
        return master

    def write_file(
        self,
        path: Path,
        *,
        passphrase: str | bytes | None = None,
        entropy: Entropy = system_entropy,
        scrypt: ScryptParams | None = None,
    ) -> None:
        """Write this key to a new file of mode 0600; refuse to overwrite an existing file."""
        doc: dict[str, object] = {
            "kind": _FILE_KIND,
            "version": _FILE_VERSION,
            "key_id": self.key_id,
        }
        if passphrase is None:
            doc["protection"] = "none"
            doc["key"] = self.to_base64()
        else:
            params = scrypt or ScryptParams()
            salt = entropy(16)
            kek = _file_kek(_passphrase_bytes(passphrase), salt, params)
            sealed = aead.seal(kek, self.key, ad=_file_ad(salt, params), entropy=entropy)
            doc["protection"] = "scrypt"
            doc["scrypt"] = {"n": params.n, "r": params.r, "p": params.p}
            doc["salt"] = base64.b64encode(salt).decode()
            doc["sealed"] = base64.b64encode(sealed).decode()
        data = (json.dumps(doc, indent=2) + "\n").encode()
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            # O_EXCL: never overwrite a key (that would orphan everything it wrapped), and
            # never follow a planted symlink at the path.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise ConfigError(
                f"refusing to overwrite the existing key file {path}",
                advice="Every deployment key is wrapped by the key in that file; overwriting "
                "it would lose them all.\nMove the old file away first if you really mean to "
                "replace it.",
            ) from None
        try:
            # The umask can only remove permission bits; set 0600 explicitly anyway so a
            # strange umask cannot leave the owner unable to read their own key.
            if hasattr(os, "fchmod"):  # POSIX; elsewhere the mode argument is all there is
                os.fchmod(fd, 0o600)
            fh = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            _remove_quietly(path)
            raise
        try:
            with fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            _remove_quietly(path)  # never leave a half-written key file to be loaded later
            raise

    @classmethod
    def from_file(cls, path: Path, *, passphrase: str | bytes | None = None) -> Self:
        """Read a key file; :class:`ConfigError` if it is unsafe or unreadable.

        A wrong passphrase (or an altered file) gives :class:`InvalidTemplate`, one error for
        both, so a guesser learns nothing beyond "no".
        """
        path = Path(path).expanduser()
        data = _read_private_file(path)
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict) or doc.get("kind") != _FILE_KIND:
                raise ValueError("not a facegate key file")
            if doc.get("version") != _FILE_VERSION:
                raise ValueError(f"unknown key file version {doc.get('version')!r}")
            protection = doc["protection"]
            expected_id = str(doc["key_id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{path} is not a readable facegate master key file ({exc})",
                advice="Restore the key file from your backup.",
            ) from None
        if protection == "none":
            if passphrase is not None:
                raise ConfigError(
                    f"{path} is not passphrase-protected, but a passphrase was given",
                    advice="Omit the passphrase, or re-create the key file with one.",
                )
            try:
                master = cls.from_base64(str(doc["key"]))
            except (ConfigError, KeyError):
                raise ConfigError(
                    f"{path} holds no valid master key",
                    advice="Restore the key file from your backup.",
                ) from None
        elif protection == "scrypt":
            if passphrase is None:
                raise ConfigError(
                    f"{path} is protected by a passphrase",
                    advice="Give the passphrase the key file was created with.",
                )
            try:
                params = ScryptParams(**{k: int(doc["scrypt"][k]) for k in ("n", "r", "p")})
                salt = _b64decode(doc["salt"])
                sealed = _b64decode(doc["sealed"])
            except (KeyError, TypeError, ValueError, binascii.Error):
                raise ConfigError(
                    f"{path} is damaged: its passphrase parameters cannot be read",
                    advice="Restore the key file from your backup.",
                ) from None
            kek = _file_kek(_passphrase_bytes(passphrase), salt, params)
            try:
                master = cls(aead.open_sealed(kek, sealed, ad=_file_ad(salt, params)))
            except (InvalidTemplate, ValueError):
                raise InvalidTemplate(
                    "the master key file could not be unlocked: wrong passphrase or altered file"
                ) from None
        else:
            raise ConfigError(
                f"{path} uses an unknown protection {protection!r}",
                advice="It was written by a newer facegate; upgrade, or restore a backup.",
            )
        if master.key_id != expected_id:
            raise ConfigError(
                f"{path} is damaged: the key does not match its recorded id",
                advice="Restore the key file from your backup.",
            )
        return master

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        env_value: str | None = None,
        passphrase: str | bytes | None = None,
    ) -> Self:
        """The key from ``env_value`` (base64) if set, else from the file at ``path``.

        Never creates one: a missing or unreadable key file is a :class:`ConfigError` saying
        to restore it, because a new key would open none of the keys the old one wrapped.
        """
        if env_value:
            return cls.from_base64(env_value)
        path = Path(path).expanduser()
        if not path.exists():
            raise ConfigError(
                f"the master key file {path} is missing",
                advice="Every deployment key and the ledger key are wrapped by it: restore "
                "master.key from your backup (mode 0600), or set FACEGATE_MASTER_KEY to the "
                "key.\nfacegate will not make a new one: it would open nothing.",
            )
        return cls.from_file(path, passphrase=passphrase)

    @classmethod
    def load_or_create(
        cls,
        path: Path,
        *,
        env_value: str | None = None,
        passphrase: str | bytes | None = None,
        entropy: Entropy = system_entropy,
    ) -> Self:
        """The key from ``env_value`` (base64) if set, else from ``path``, creating it there
        if there is none. Only for a new installation (``facegate init``): opening an
        existing one uses :meth:`load`, which never creates."""
        if env_value:
            return cls.from_base64(env_value)
        path = Path(path).expanduser()
        if not path.exists():
            try:
                return cls.create_file(path, passphrase=passphrase, entropy=entropy)
            except ConfigError:
                if not path.exists():
                    raise
                # another process created it between our check and our create: use theirs
        return cls.from_file(path, passphrase=passphrase)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _read_private_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise ConfigError(
            f"no master key file at {path}",
            advice="Create one with 'facegate init', or set FACEGATE_MASTER_KEY.",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot open the key file {path}: {exc.strerror}") from None
    try:
        # fstat on the open descriptor checks the file we actually read, not whatever the
        # path points to a moment later.
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"the key file {path} is not a regular file")
        if os.name == "posix" and st.st_mode & 0o077:
            raise ConfigError(
                f"the key file {path} can be read by other users "
                f"(mode {stat.S_IMODE(st.st_mode):04o})",
                advice=f"Anyone who can read it can open every template. Run:\n  chmod 600 {path}",
            )
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            if sum(map(len, chunks)) > 65536:
                raise ConfigError(f"the key file {path} is far too large to be a key file")
        return b"".join(chunks)
    finally:
        os.close(fd)
