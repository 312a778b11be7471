"""The witness: it cosigns a log that only grows and raises a named alarm on anything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facegate.errors import ConfigError, Forbidden
from facegate.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    Signer,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.proofs import ConsistencyProof, consistency_proof
from facegate.ledger.tree import MemoryNodeStore
from facegate.ledger.witness import ForkDetected, RollbackDetected, Witness, WitnessState

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SIGNER = Signer.from_seed("test.log/ledger", b"\x01" * 32)


class FakeLog:
    """A log in memory, signed with SIGNER; ``entries`` decide its history."""

    def __init__(self, entries: list[bytes], signer: Signer = SIGNER) -> None:
        self.signer = signer
        self.store = MemoryNodeStore.from_leaf_hashes(hash_leaf(e) for e in entries)
        self.received: list[str] = []
        self.refuse = False

    def checkpoint(self) -> str:
        size = self.store.size
        return sign_checkpoint(Checkpoint(self.signer.name, size, self.store.root()), self.signer)

    def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
        return consistency_proof(old_size, new_size, self.store)

    def add_cosignature(self, note: str) -> object:
        if self.refuse:
            raise Forbidden("not registered")
        self.received.append(note)
        return None


def entries(n: int, *, changed: int | None = None) -> list[bytes]:
    return [f"event {i}{' (rewritten)' if i == changed else ''}".encode() for i in range(n)]


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness.create(
        tmp_path / "w",
        name="regulator",
        log_key=SIGNER.verifier_key(),
        clock=lambda: NOW,
        entropy=lambda n: b"\x02" * n,
    )


def test_cosigns_a_growing_log_and_remembers_it(witness: Witness, tmp_path: Path) -> None:
    log = FakeLog(entries(5))
    first = witness.observe(log)
    assert (first.old_size, first.size, first.submitted) == (None, 5, True)
    log = FakeLog(entries(9))
    second = witness.observe(log)
    assert (second.old_size, second.size) == (5, 9)
    (cosig,) = verify_cosignatures(second.cosigned, [_verifier(witness)])
    assert cosig.timestamp == int(NOW.timestamp())
    assert open_checkpoint(second.cosigned, SIGNER.verifier()).size == 9
    assert log.received == [second.cosigned]
    again = Witness(tmp_path / "w")  # state survives a restart
    cp = again.state.accepted()
    assert cp is not None and cp.size == 9
    assert again.observe(FakeLog(entries(9))).old_size == 9  # same head: cosigned again


def _verifier(witness: Witness):  # type: ignore[no-untyped-def]
    from facegate.ledger.checkpoint import CosignatureVerifier

    return CosignatureVerifier.from_key(witness.verifier_key)


def test_a_rewritten_history_is_a_fork(witness: Witness) -> None:
    witness.observe(FakeLog(entries(6)))
    with pytest.raises(ForkDetected, match="does not extend") as caught:
        witness.observe(FakeLog(entries(8, changed=2)))
    record = json.loads(caught.value.evidence.read_text())
    assert record["what"] == "fork"
    assert open_checkpoint(record["accepted_before"], SIGNER.verifier()).size == 6
    assert open_checkpoint(record["offered_now"], SIGNER.verifier()).size == 8
    cp = witness.state.accepted()
    assert cp is not None and cp.size == 6  # nothing was accepted


def test_two_roots_at_one_size_are_a_fork(witness: Witness) -> None:
    witness.observe(FakeLog(entries(6)))
    with pytest.raises(ForkDetected, match="two different roots at size 6"):
        witness.observe(FakeLog(entries(6, changed=5)))


def test_a_smaller_log_is_a_rollback(witness: Witness) -> None:
    witness.observe(FakeLog(entries(6)))
    with pytest.raises(RollbackDetected, match="from size 6 to size 4") as caught:
        witness.observe(FakeLog(entries(4)))
    assert caught.value.evidence.is_file()
    assert "regulator" not in caught.value.evidence.read_text()  # no secret in the evidence


def test_a_proof_for_other_sizes_is_refused(witness: Witness) -> None:
    witness.observe(FakeLog(entries(6)))

    class Evasive(FakeLog):
        def consistency_proof(self, old_size: int, new_size: int) -> ConsistencyProof:
            return super().consistency_proof(old_size - 1, new_size)

    with pytest.raises(ForkDetected, match="other sizes"):
        witness.observe(Evasive(entries(9)))


def test_a_checkpoint_signed_by_another_key_is_refused(witness: Witness) -> None:
    impostor = Signer.from_seed(SIGNER.name, b"\x03" * 32)
    with pytest.raises(CheckpointError):
        witness.observe(FakeLog(entries(3), signer=impostor))
    assert witness.state.accepted() is None


def test_a_refused_handback_does_not_undo_the_cosignature(witness: Witness) -> None:
    log = FakeLog(entries(4))
    log.refuse = True
    seen = witness.observe(log)
    assert not seen.submitted and "not registered" in seen.submit_error
    cp = witness.state.accepted()
    assert cp is not None and cp.size == 4


def test_state_files_are_checked(witness: Witness, tmp_path: Path) -> None:
    witness.observe(FakeLog(entries(4)))
    state_path = tmp_path / "w" / "state.json"
    data = json.loads(state_path.read_text())
    data["checkpoint"] = data["checkpoint"].replace("\n4\n", "\n3\n")
    state_path.write_text(json.dumps(data))
    with pytest.raises(CheckpointError):
        Witness(tmp_path / "w")
    with pytest.raises(ConfigError, match="no witness"):
        Witness(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="already holds"):
        Witness.create(tmp_path / "w", name="x", log_key=SIGNER.verifier_key())
    assert (tmp_path / "w" / "witness.key").stat().st_mode & 0o077 == 0
    assert WitnessState.from_json(WitnessState(SIGNER.verifier_key()).to_json()).checkpoint is None
