"""A witness: checks that a log only ever grows, cosigns what it checked, raises the alarm.

The witness keeps, in its own directory, its cosigning key (``witness.key``, mode 0600) and
the last checkpoint it accepted (``state.json``). Each :meth:`Witness.observe`:

1. fetches the log's latest signed checkpoint and checks the log's signature;
2. refuses a smaller size (:class:`RollbackDetected`), a different root at the same size,
   or a consistency proof from the last accepted size that does not verify
   (:class:`ForkDetected`), writing both signed heads to ``alarms/`` first, since two
   heads signed by one key that cannot both be true prove the operator's misbehaviour;
3. otherwise cosigns it (c2sp.org/tlog-cosignature v1), saves it as the new state (before
   anything else, so a crash cannot make it forget), and hands the cosignature to the log.

The log is anything with the three methods of :class:`LogView`: a :class:`facegate.Gate` in
the same process, or :class:`facegate.ledger.witness_http.HttpLog` over HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from facegate._internal.clock import Clock, Entropy, system_entropy, utc_now
from facegate.errors import ConfigError, FacegateError, LedgerTampered
from facegate.ledger.checkpoint import (
    Checkpoint,
    Cosigner,
    Verifier,
    cosign_checkpoint,
    open_checkpoint,
)
from facegate.ledger.proofs import ConsistencyProof, ProofError, verify_consistency
from facegate.storage.home import write_atomically

__all__ = [
    "ForkDetected",
    "LogView",
    "Observation",
    "RollbackDetected",
    "Witness",
    "WitnessAlarm",
    "WitnessState",
]

STATE_FORMAT = "facegate-witness/v1"
KEY_FILE = "witness.key"
STATE_FILE = "state.json"
ALARMS = "alarms"


class LogView(Protocol):
    """What a witness needs from a log."""

    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""
        ...

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        """RFC 9162 proof that the tree of ``new_size`` extends the tree of ``old_size``."""
        ...

    def add_cosignature(self, note: str) -> object:
        """Hand a cosigned checkpoint back to the log's operator."""
        ...


class WitnessAlarm(LedgerTampered):
    """The log showed this witness something that an append-only log cannot show."""

    code = "witness_alarm"

    def __init__(self, message: str, *, evidence: Path) -> None:
        super().__init__(
            message,
            index=None,
            advice=(
                f"Nothing was cosigned. {evidence} holds the signed checkpoints involved: keep\n"
                "it and send it to the regulator; the log's own signatures make it proof."
            ),
        )
        self.evidence = evidence


class ForkDetected(WitnessAlarm):
    """Two views of the log that cannot both be true: history was rewritten."""

    code = "ledger_fork"


class RollbackDetected(WitnessAlarm):
    """The log is now smaller than a size it signed before."""

    code = "ledger_rollback"


@dataclass(frozen=True, slots=True)
class WitnessState:
    """Whose log this witness watches, and the last checkpoint it accepted (if any)."""

    log_key: str
    checkpoint: str | None = None

    @property
    def verifier(self) -> Verifier:
        return Verifier.from_key(self.log_key)

    def accepted(self) -> Checkpoint | None:
        if self.checkpoint is None:
            return None
        return open_checkpoint(self.checkpoint, self.verifier)

    def to_json(self) -> str:
        cp = self.accepted()
        return json.dumps(
            {
                "format": STATE_FORMAT,
                "log_key": self.log_key,
                "size": cp.size if cp else None,
                "root": cp.root_hash.hex() if cp else None,
                "checkpoint": self.checkpoint,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> WitnessState:
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT:
            raise ConfigError(f"not a facegate witness state file (format {data.get('format')!r})")
        state = cls(log_key=str(data["log_key"]), checkpoint=data.get("checkpoint"))
        state.accepted()  # the saved checkpoint must still carry the log's valid signature
        return state


@dataclass(frozen=True, slots=True)
class Observation:
    """One accepted checkpoint: its size and root, the size it was proven to extend, and the
    cosigned note. ``submitted`` says whether the log took the cosignature back."""

    old_size: int | None
    size: int
    root_hash: bytes
    cosigned: str
    timestamp: int
    submitted: bool
    submit_error: str = ""


def _write_atomically(path: Path, text: str, *, mode: int = 0o600) -> None:
    write_atomically(path, text.encode(), mode=mode)


class Witness:
    """A witness living in ``directory`` (see :meth:`create`)."""

    def __init__(self, directory: Path, *, clock: Clock = utc_now) -> None:
        self.directory = Path(directory).expanduser()
        key_path, state_path = self.directory / KEY_FILE, self.directory / STATE_FILE
        if not key_path.is_file() or not state_path.is_file():
            raise ConfigError(
                f"no witness in {self.directory}",
                advice="Create one with 'facegate witness init --state DIR --name NAME "
                "--log-key KEY'.",
            )
        self._cosigner = Cosigner.from_key(key_path.read_text().strip())
        self._state = WitnessState.from_json(state_path.read_text())
        self._clock = clock

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        name: str,
        log_key: str,
        clock: Clock = utc_now,
        entropy: Entropy = system_entropy,
    ) -> Witness:
        """A new witness of the log whose checkpoint verifier key is ``log_key``."""
        directory = Path(directory).expanduser()
        if (directory / KEY_FILE).exists():
            raise ConfigError(
                f"{directory} already holds a witness",
                advice="Use that one, or choose another directory.",
            )
        try:
            Verifier.from_key(log_key.strip())
            cosigner = Cosigner.from_seed(name, entropy(32))
        except ValueError as err:
            raise ConfigError(f"cannot create the witness: {err}") from None
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomically(directory / KEY_FILE, cosigner.private_key_string() + "\n")
        _write_atomically(directory / STATE_FILE, WitnessState(log_key.strip()).to_json())
        return cls(directory, clock=clock)

    @property
    def verifier_key(self) -> str:
        """This witness's public key, for operators and courts: ``<name>+<id>+<base64>``."""
        return self._cosigner.verifier_key()

    @property
    def state(self) -> WitnessState:
        return self._state

    def observe(self, log: LogView, *, submit: bool = True) -> Observation:
        """Check the log's latest checkpoint against the last one accepted, then cosign it."""
        note = log.checkpoint()
        new = open_checkpoint(note, self._state.verifier)
        old = self._state.accepted()
        if old is not None:
            self._check_extends(log, old, new, note)
        timestamp = int(self._clock().timestamp())
        cosigned = cosign_checkpoint(note, self._cosigner, timestamp=timestamp)
        self._state = WitnessState(self._state.log_key, note)
        _write_atomically(self.directory / STATE_FILE, self._state.to_json())
        submitted, problem = False, ""
        if submit:
            try:
                log.add_cosignature(cosigned)
                submitted = True
            except FacegateError as err:
                # The cosignature stands even if the operator does not store it.
                problem = err.message
        return Observation(
            old_size=old.size if old else None,
            size=new.size,
            root_hash=new.root_hash,
            cosigned=cosigned,
            timestamp=timestamp,
            submitted=submitted,
            submit_error=problem,
        )

    def _check_extends(self, log: LogView, old: Checkpoint, new: Checkpoint, note: str) -> None:
        if new.size < old.size:
            path = self._alarm("rollback", note, f"size {old.size} became {new.size}")
            raise RollbackDetected(
                f"the log rolled back from size {old.size} to size {new.size}", evidence=path
            )
        if new.size == old.size:
            if new.root_hash != old.root_hash:
                path = self._alarm("fork", note, f"two roots at size {new.size}")
                raise ForkDetected(
                    f"the log signed two different roots at size {new.size}: "
                    f"{old.root_hash.hex()} then {new.root_hash.hex()}",
                    evidence=path,
                )
            return
        proof = log.consistency_proof(old.size, new.size)
        try:
            if (proof.old_size, proof.new_size) != (old.size, new.size):
                raise ProofError(
                    "the log answered with a proof for other sizes",
                    expected=(old.size, new.size),
                    computed=(proof.old_size, proof.new_size),
                )
            verify_consistency(old.root_hash, new.root_hash, proof)
        except ProofError as err:
            path = self._alarm("fork", note, err.message, proof=proof)
            raise ForkDetected(
                f"the log at size {new.size} does not extend the one this witness cosigned at "
                f"size {old.size}: {err.message}",
                evidence=path,
            ) from err

    def _alarm(
        self, what: str, offered: str, why: str, *, proof: ConsistencyProof | None = None
    ) -> Path:
        at = self._clock()
        folder = self.directory / ALARMS
        folder.mkdir(exist_ok=True, mode=0o700)
        path = folder / f"{at.strftime('%Y%m%dT%H%M%S%fZ')}-{what}.json"
        record = {
            "what": what,
            "why": why,
            "at": at.isoformat(),
            "log_key": self._state.log_key,
            "accepted_before": self._state.checkpoint,
            "offered_now": offered,
            "consistency_proof": None
            if proof is None
            else {
                "old_size": proof.old_size,
                "new_size": proof.new_size,
                "hashes": [h.hex() for h in proof.hashes],
            },
        }
        _write_atomically(path, json.dumps(record, indent=2), mode=0o644)
        return path
