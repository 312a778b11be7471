"""Threshold encrypted verification: no single key holder can decrypt anything.

The decision key of :mod:`facegate.templates.he.parties` exists whole at the decision holder
(sealed 2-of-3 at rest, open in memory while it serves). Here it never exists whole: OpenFHE's
multiparty BFV makes three key shares ``s0, s1, s2`` whose sum is the key behind the one
joint public key, and each of the three holders (operator, HSM or escrow, regulator) keeps two
of them (holder ``h`` keeps ``s_h`` and ``s_(h+1) mod 3``). Any two holders cover all three
shares; one holder alone lacks one, and what it can decrypt is uniformly random.

    >>> setup = ThresholdSetup.ceremony()                   # once, with the three holders
    >>> device = ThresholdDevice(setup.public)              # public key: encrypts
    >>> server = ThresholdVerifier(setup.public)            # evaluation keys: compares
    >>> holders = [KeyHolder(setup.public, s) for s in setup.shares[:2]]
    >>> request = server.decision_request(device.encrypt(probe), device.encrypt(enrolled))
    >>> ThresholdDecisionHolder(setup.public).decide(request, holders)   # True: same person

Embeddings are encrypted as integers (each value times 2^10). Each holder returns OpenFHE
decryption shares, each flooded with fresh noise (``NOISE_FLOODING_MULTIPARTY``) so that it
says nothing about the holder's key share; the decision holder fuses them into
``z = r·(T² - |x - y|²) + e`` (a masked margin like the single-key mode's) and hands the
service its sign only. OpenFHE runs in a process of its own for each party under the
interpreter its wheels are built for (:func:`openfhe_python`), so parties share no memory.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import struct
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy.typing as npt

from facegate.errors import InvalidInput, InvalidTemplate
from facegate.templates.hazmat import aead, keys
from facegate.templates.he.parties import (
    DEFAULT_THRESHOLD,
    Uniform,
    _system_uniform,
    checked_threshold,
    one_embedding,
)

__all__ = [
    "HOLDERS",
    "OPENFHE_PYTHON_ENV",
    "HolderShare",
    "KeyHolder",
    "PublicMaterial",
    "ThresholdDecisionHolder",
    "ThresholdDevice",
    "ThresholdSetup",
    "ThresholdVerifier",
    "openfhe_python",
    "threshold_available",
]

#: the interpreter OpenFHE's wheels run under (CPython 3.10 or 3.12); ``make install`` makes
#: ``.venv-openfhe`` beside the project with ``openfhe`` in it
OPENFHE_PYTHON_ENV: Final = "FACEGATE_OPENFHE_PYTHON"
HOLDERS: Final = ("operator", "hsm", "regulator")
_WORKER: Final = Path(__file__).with_name("_openfhe_worker.py")
_SEAL_AD: Final = b"facegate/v1/he-threshold-share"
#: embeddings are encrypted as integers, each value times 2^10 rounded: a squared distance is
#: then exact to about 1e-3 at the threshold. dlib norms are at most 4 (as_embeddings), so
#: |margin| < 64 = 2^6, 2^26 in these units
QUANT: Final = 1024
#: a request holds the margin CHECKS times, each masked by r_i = r·s_i + d_i (r = 2^u rounded,
#: u uniform on [0, MASK_BITS], shared; s_i uniform on [1, SPREAD] and d_i on [0, r), each its
#: own) plus e_i uniform on [0, r_i): every z_i has the margin's sign, and |z_i| < 2^26 · 2^12.1
#: stays inside BFV's plaintext modulus (about 2^40, signed). What the z_i say of |margin|:
#: a factor of about 2^8.5. A probe of values out of range (a device that skips the
#: embedding check) wraps the z_i around the modulus at unrelated multipliers: their signs
#: disagree, or some lies beyond what any embedding gives (|margin| < 64, at most T²), and
#: the decision holder refuses the request
MASK_BITS: Final = 6
SPREAD: Final = 64
MAX_MASK: Final = 2**MASK_BITS * (SPREAD + 1)
MAX_MARGIN: Final = 64 * QUANT**2
CHECKS: Final = 16


def openfhe_python() -> str | None:
    """The interpreter with OpenFHE: ``$FACEGATE_OPENFHE_PYTHON``, else the project's
    ``.venv-openfhe``; None when neither exists."""
    named = os.environ.get(OPENFHE_PYTHON_ENV)
    if named:
        return named if os.access(named, os.X_OK) else None
    local = Path(__file__).resolve().parents[4] / ".venv-openfhe" / "bin" / "python"
    return str(local) if os.access(local, os.X_OK) else None


def threshold_available() -> bool:
    return openfhe_python() is not None


class _Party:
    """One party's OpenFHE process. Its first call (the party's material) is replayed if
    the process ends, e.g. killed by a malformed ciphertext, so the party carries on."""

    def __init__(self) -> None:
        python = openfhe_python()
        if python is None:
            raise InvalidInput(
                "threshold encrypted verification needs OpenFHE under CPython 3.10 or 3.12",
                advice=f"run `make install`, or set {OPENFHE_PYTHON_ENV} to such a python "
                "with `pip install openfhe` done",
            )
        self._python = python
        self._lock = threading.Lock()
        self._setup: tuple[str, dict[str, Any]] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # our own worker, run by path
            [self._python, str(_WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # another interpreter: facegate's own module path must not reach it
            env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
        )
        self._proc = proc
        if self._setup is not None:
            self._exchange(proc, *self._setup)
        return proc

    def _exchange(self, proc: subprocess.Popen[bytes], op: str, kwargs: dict[str, Any]) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        blob = pickle.dumps((op, kwargs), protocol=4)
        try:
            proc.stdin.write(struct.pack(">I", len(blob)) + blob)
            proc.stdin.flush()
            head = proc.stdout.read(4)
            if len(head) < 4:
                raise BrokenPipeError
            (size,) = struct.unpack(">I", head)
            status, value = pickle.loads(proc.stdout.read(size))  # our worker
        except (BrokenPipeError, OSError, EOFError, pickle.UnpicklingError):
            self._proc = None
            proc.kill()
            raise InvalidInput(f"OpenFHE could not {op} this input (its process ended)") from None
        if status != "ok":
            raise InvalidInput(f"OpenFHE refused to {op}: {value}")
        return value

    def setup(self, op: str, **kwargs: Any) -> None:
        with self._lock:
            self._setup = (op, kwargs)
            self._start()

    def call(self, op: str, **kwargs: Any) -> Any:
        with self._lock:
            if self._proc is not None and self._proc.poll() is not None:
                self._proc = None  # ended between calls (killed, say): start it again
            return self._exchange(self._proc or self._start(), op, kwargs)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class PublicMaterial:
    """What devices and the server hold: the context, the joint public key, and the joint
    evaluation keys. No key share: anyone may have it."""

    context: bytes = field(repr=False)
    public_key: bytes = field(repr=False)
    eval_mult: bytes = field(repr=False)
    eval_sum: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class HolderShare:
    """One holder's two key shares (OpenFHE private keys), by share index."""

    holder: str
    shares: dict[int, bytes] = field(repr=False)

    def seal(self, kek: bytes) -> bytes:
        """Sealed (AES-256-GCM) under the holder's own 32-byte key-encryption key."""
        shares = {str(i): base64.b64encode(v).decode() for i, v in self.shares.items()}
        blob = json.dumps({"holder": self.holder, "shares": shares}).encode()
        return aead.seal(keys.derive(kek, label="he-threshold-share"), blob, ad=_SEAL_AD)

    @classmethod
    def open(cls, sealed: bytes, kek: bytes) -> HolderShare:
        """:meth:`seal`'s inverse; :class:`InvalidTemplate` under the wrong key."""
        blob = aead.open_sealed(keys.derive(kek, label="he-threshold-share"), sealed, ad=_SEAL_AD)
        data = json.loads(blob)  # authenticated by the AEAD: written by seal
        shares = {int(i): base64.b64decode(v) for i, v in data["shares"].items()}
        return cls(data["holder"], shares)


@dataclass(frozen=True, slots=True)
class ThresholdSetup:
    public: PublicMaterial
    shares: tuple[HolderShare, ...]

    @classmethod
    def ceremony(cls) -> ThresholdSetup:
        """Run OpenFHE's multiparty key generation for the three holders in one process,
        which ends with it: each holder leaves with its two shares, nobody with the key."""
        party = _Party()
        try:
            out = party.call("ceremony")
        finally:
            party.close()
        ks = out["key_shares"]
        shares = tuple(
            HolderShare(name, {h: ks[h], (h + 1) % 3: ks[(h + 1) % 3]})
            for h, name in enumerate(HOLDERS)
        )
        public = PublicMaterial(
            out["context"], out["public_key"], out["eval_mult"], out["eval_sum"]
        )
        return cls(public, shares)


def _blob(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or not value:
        raise InvalidInput(f"the encrypted {what} is empty or not bytes")
    return value


class ThresholdDevice:
    """Encrypts embeddings where they are captured, under the joint public key."""

    def __init__(self, public: PublicMaterial) -> None:
        self._party = _Party()
        self._party.setup("device", context=public.context, public_key=public.public_key)

    def encrypt(self, embedding: npt.ArrayLike) -> bytes:
        values = [round(v * QUANT) for v in one_embedding(embedding)]
        return bytes(self._party.call("encrypt", values=values))


class ThresholdVerifier:
    """The server: compares ciphertexts, emits masked decision requests; holds no share."""

    def __init__(
        self,
        public: PublicMaterial,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        uniform: Uniform = _system_uniform,
    ) -> None:
        self.threshold, self._uniform = checked_threshold(threshold), uniform
        self._party = _Party()
        self._party.setup(
            "server", context=public.context, eval_mult=public.eval_mult, eval_sum=public.eval_sum
        )

    def decision_request(self, probe: bytes, template: bytes) -> bytes:
        """``z_i = r_i·(T² - |probe - template|²) + e_i`` under encryption, in units of
        2^-20; fresh masks each call. ``0 <= e_i < r_i``, so ``z_i >= 0`` exactly when the
        squared distance is at most ``T²``: the sign is the decision, and the ``z_i`` fix
        the margin only up to the unknown factors ``r_i``."""
        r = max(1, round(2.0 ** (MASK_BITS * self._uniform())))
        masks = [
            r * (1 + int(self._uniform() * SPREAD)) + int(self._uniform() * r)
            for _ in range(CHECKS)
        ]
        return bytes(
            self._party.call(
                "compare",
                probe=_blob(probe, "probe"),
                template=_blob(template, "template"),
                tt=_quantised(self.threshold),
                r=masks,
                e=[int(self._uniform() * m) for m in masks],
            )
        )


def _quantised(threshold: float) -> int:
    """``T²`` in the units of the encrypted squared distances."""
    return round(threshold**2 * QUANT**2)


class KeyHolder:
    """One custodian: answers a decision request with decryption shares of its key shares."""

    def __init__(self, public: PublicMaterial, share: HolderShare) -> None:
        self.holder, self.indices = share.holder, tuple(sorted(share.shares))
        self._party = _Party()
        self._party.setup("holder", context=public.context, shares=share.shares)

    def partials(self, request: bytes, indices: Sequence[int], *, lead: bool) -> list[bytes]:
        if not set(indices) <= set(self.indices):
            raise InvalidTemplate()
        out = self._party.call("partials", request=request, shares=list(indices), lead=lead)
        return [bytes(p) for p in out]


class ThresholdDecisionHolder:
    """Fuses the holders' decryption shares; learns ``z`` (a masked margin), tells its sign."""

    def __init__(self, public: PublicMaterial, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        checked_threshold(threshold)
        # what any pair of embeddings and masks can give: anything else wrapped around
        self._range = (-MAX_MASK * MAX_MARGIN, MAX_MASK * (_quantised(threshold) + 1))
        self._party = _Party()
        self._party.setup("decider", context=public.context)

    def views(self, request: bytes, holders: Sequence[KeyHolder]) -> list[int]:
        """Everything the decision holder learns from a request: the masked margins."""
        request = _blob(request, "decision request")
        plan: dict[KeyHolder, list[int]] = {}
        for index in range(len(HOLDERS)):
            holder = next((h for h in holders if index in h.indices), None)
            if holder is None:
                raise InvalidInput(
                    f"a decision needs two of the three key holders ({', '.join(HOLDERS)}); "
                    f"{len({h.holder for h in holders})} answered"
                )
            plan.setdefault(holder, []).append(index)
        partials: list[bytes] = []
        for holder, indices in plan.items():
            partials += holder.partials(request, indices, lead=indices[0] == 0)
        return self.fuse(partials)

    def fuse(self, partials: Sequence[bytes]) -> list[int]:
        """The masked margins from the decryption shares of all three key shares; with any
        share missing, what they fuse to is uniformly random."""
        blobs = [_blob(p, "partial") for p in partials]
        return [int(v) for v in self._party.call("fuse", partials=blobs)]

    def view(self, request: bytes, holders: Sequence[KeyHolder]) -> float:
        """One masked margin (for measurement; the service uses :meth:`decide`)."""
        return float(self.views(request, holders)[0])

    def decide(self, request: bytes, holders: Sequence[KeyHolder]) -> bool:
        return self.judge(self.views(request, holders))

    def judge(self, views: Sequence[int]) -> bool:
        """The decision from a request's masked margins, or :class:`InvalidInput` when they
        cannot come from two embeddings."""
        low, high = self._range
        signs = {v >= 0 for v in views}
        if len(signs) != 1 or not all(low <= v < high for v in views):
            raise InvalidInput(
                "the decision request's masked margins disagree or exceed what embeddings "
                "give: the probe or the template holds values out of an embedding's range "
                "(refused, not decided)"
            )
        return signs.pop()
