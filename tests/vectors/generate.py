"""Write facegate's ledger test vectors: Merkle proofs and signed checkpoints, good and bad.

    PYTHONPATH=src python tests/vectors/generate.py            # rewrite the JSON files
    PYTHONPATH=src python tests/vectors/generate.py --check    # fail if they are stale

Outputs (byte strings in lowercase hex unless said otherwise):

* ``merkle_proofs.json``: RFC 9162 roots, inclusion proofs and consistency proofs over two
  trees (the 8 Certificate Transparency test leaves, and 1100 synthetic leaves), each valid
  proof followed by invalid variants (every hash flipped, truncated, extended, reordered,
  wrong index or sizes, wrong roots). Every valid proof is checked against a recursive
  implementation of the RFC 9162 definitions before it is written.
* ``checkpoints.json``: C2SP signed checkpoints under a fixed *public* test key, with witness
  cosignatures, and invalid notes each tagged with how firmly a verifier must refuse them:
  ``must`` (c2sp.org/signed-note or tlog-checkpoint forbid it), ``should`` (the note
  specification recommends refusing) or ``facegate`` (facegate's stricter policy).

Everything is deterministic (Ed25519 signatures are), so regenerating gives identical files.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for extra in (ROOT / "src", ROOT / "tests" / "unit" / "ledger"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import ledger_reference as ref  # noqa: E402

from facegate.ledger.checkpoint import (  # noqa: E402
    Checkpoint,
    CheckpointError,
    CosignatureVerifier,
    Cosigner,
    NoteSignature,
    SignedNote,
    Signer,
    add_signature,
    cosign_checkpoint,
    open_checkpoint,
    parse_signed_note,
    sign_checkpoint,
    verify_cosignatures,
)
from facegate.ledger.hasher import EMPTY_ROOT, hash_leaf  # noqa: E402
from facegate.ledger.proofs import (  # noqa: E402
    ConsistencyProof,
    InclusionProof,
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from facegate.ledger.tree import MemoryNodeStore  # noqa: E402

Json = dict[str, Any]

MERKLE_FILE = HERE / "merkle_proofs.json"
CHECKPOINT_FILE = HERE / "checkpoints.json"

SYNTHETIC_SIZE = 1100
SYNTHETIC_SIZES = (*range(1, 10), 15, 16, 17, 31, 32, 33, 127, 128, 129, 1023, 1024, 1025, 1100)
#: CT-tree cases whose invalid variants are written (inclusion: index, size; consistency: sizes)
CT_NEGATIVE_INCLUSION = {(0, 1), (2, 3), (0, 4), (1, 5), (6, 7), (0, 8), (5, 8), (7, 8)}
CT_NEGATIVE_CONSISTENCY = {(0, 0), (0, 8), (4, 4), (1, 2), (3, 4), (2, 5), (6, 7), (1, 8), (6, 8)}
#: invalid variants are also written for every NEGATIVE_STRIDE-th synthetic case
NEGATIVE_STRIDE = 10


def hx(b: bytes) -> str:
    return b.hex()


def synthetic_data(i: int) -> bytes:
    return f"facegate vector leaf {i}".encode()


def flip(h: bytes, bit: int = 0, pos: int = 0) -> bytes:
    return h[:pos] + bytes([h[pos] ^ (1 << bit)]) + h[pos + 1 :]


class Tree:
    def __init__(self, name: str, data: list[bytes]) -> None:
        self.name = name
        self.data = data
        self.leaves = [hash_leaf(d) for d in data]
        self.store = MemoryNodeStore.from_leaf_hashes(self.leaves)
        self._roots: dict[int, bytes] = {}

    def root(self, size: int) -> bytes:
        if size not in self._roots:
            got = self.store.root(size)
            if got != ref.mth(self.leaves[:size]):
                raise AssertionError(f"{self.name}: root of size {size} disagrees with RFC MTH")
            self._roots[size] = got
        return self._roots[size]


# --- Merkle proofs ---------------------------------------------------------------------------


def inclusion_case(tree: Tree, index: int, size: int) -> Json:
    proof = inclusion_proof(index, size, tree.store)
    if list(proof.hashes) != ref.path(index, tree.leaves[:size]):
        raise AssertionError(f"inclusion ({index}, {size}) disagrees with RFC PATH")
    verify_inclusion(tree.leaves[index], proof, tree.root(size))
    return {
        "id": f"inclusion/{tree.name}/{index}/{size}",
        "tree": tree.name,
        "leaf_index": index,
        "tree_size": size,
        "leaf_data": hx(tree.data[index]),
        "leaf_hash": hx(tree.leaves[index]),
        "root": hx(tree.root(size)),
        "proof": [hx(h) for h in proof.hashes],
    }


def inclusion_mutations(case: Json) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    index, size = case["leaf_index"], case["tree_size"]
    leaf, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
    proof = [bytes.fromhex(h) for h in case["proof"]]
    out = [
        (f"proof[{k}] bit 3 flipped", index, size, leaf, root, _with(proof, k, flip(h, 3)))
        for k, h in enumerate(proof)
    ]
    if proof:
        out.append(("last hash removed", index, size, leaf, root, proof[:-1]))
        out.append(("first hash removed", index, size, leaf, root, proof[1:]))
        out.append(
            ("proof[0] cut to 31 bytes", index, size, leaf, root, [proof[0][:31], *proof[1:]])
        )
    out.append(("root appended", index, size, leaf, root, [*proof, root]))
    out.append(("leaf hash prepended", index, size, leaf, root, [leaf, *proof]))
    if len(proof) >= 2:
        out.append(
            ("first two hashes swapped", index, size, leaf, root, [proof[1], proof[0], *proof[2:]])
        )
        out.append(("hashes reversed", index, size, leaf, root, proof[::-1]))
    out.extend(
        (f"leaf index {i}", i, size, leaf, root, proof)
        for i in sorted({index + 1, index - 1, index ^ 2, size})
        if i >= 0 and i != index
    )
    out.extend(
        (f"tree size {s}", index, s, leaf, root, proof)
        for s in sorted({size + 1, size - 1, size * 2, size // 2})
        if s >= 0 and s != size
    )
    out.append(("wrong leaf hash", index, size, flip(leaf, 0, 31), root, proof))
    out.append(
        (
            "leaf hash of the raw data's hash",
            index,
            size,
            hashlib.sha256(bytes.fromhex(case["leaf_data"])).digest(),
            root,
            proof,
        )
    )
    out.append(("wrong root", index, size, leaf, flip(root, 7), proof))
    out.append(("empty-tree root", index, size, leaf, EMPTY_ROOT, proof))
    return out


def _with(items: list[bytes], k: int, value: bytes) -> list[bytes]:
    out = list(items)
    out[k] = value
    return out


def inclusion_negatives(case: Json) -> list[Json]:
    out = []
    for what, index, size, leaf, root, proof in inclusion_mutations(case):
        try:
            verify_inclusion(leaf, InclusionProof(index, size, tuple(proof)), root)
        except ProofError as err:
            error = type(err).__name__
        else:
            continue  # the mutation happens to be another valid proof
        out.append(
            {
                "id": f"{case['id']}: {what}",
                "mutation": what,
                "leaf_index": index,
                "tree_size": size,
                "leaf_hash": hx(leaf),
                "root": hx(root),
                "proof": [hx(h) for h in proof],
                "facegate_error": error,
            }
        )
    return out


def consistency_case(tree: Tree, old: int, new: int) -> Json:
    proof = consistency_proof(old, new, tree.store)
    if 0 < old < new and list(proof.hashes) != ref.proof(old, tree.leaves[:new]):
        raise AssertionError(f"consistency ({old}, {new}) disagrees with RFC PROOF")
    verify_consistency(tree.root(old), tree.root(new), proof)
    return {
        "id": f"consistency/{tree.name}/{old}/{new}",
        "tree": tree.name,
        "old_size": old,
        "new_size": new,
        "old_root": hx(tree.root(old)),
        "new_root": hx(tree.root(new)),
        "proof": [hx(h) for h in proof.hashes],
    }


def consistency_mutations(case: Json) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    old, new = case["old_size"], case["new_size"]
    r1, r2 = bytes.fromhex(case["old_root"]), bytes.fromhex(case["new_root"])
    proof = [bytes.fromhex(h) for h in case["proof"]]
    out = [
        (f"proof[{k}] bit 4 flipped", old, new, r1, r2, _with(proof, k, flip(h, 4)))
        for k, h in enumerate(proof)
    ]
    if proof:
        out.append(("empty proof", old, new, r1, r2, []))
        out.append(("last hash removed", old, new, r1, r2, proof[:-1]))
        out.append(("first hash removed", old, new, r1, r2, proof[1:]))
        out.append(("proof[0] cut to 31 bytes", old, new, r1, r2, [proof[0][:31], *proof[1:]]))
    out.append(("new root appended", old, new, r1, r2, [*proof, r2]))
    out.append(("old root prepended", old, new, r1, r2, [r1, *proof]))
    if len(proof) >= 2:
        out.append(("first two hashes swapped", old, new, r1, r2, [proof[1], proof[0], *proof[2:]]))
    out.extend(
        (f"old size {m}", m, new, r1, r2, proof)
        for m in sorted({old + 1, old - 1, old ^ 2})
        if m > 0 and m != old
    )
    out.extend(
        (f"new size {n}", old, n, r1, r2, proof)
        for n in sorted({new + 1, new - 1, new * 2, new // 2})
        if n > 0 and n != new
    )
    if r1 != r2:
        out.append(("roots swapped", old, new, r2, r1, proof))
    if old > 0:  # the empty tree's root is fixed; facegate checks it, not every verifier does
        out.append(("wrong old root", old, new, flip(r1, 1), r2, proof))
    out.append(("wrong new root", old, new, r1, flip(r2, 1), proof))
    return out


def consistency_negatives(case: Json) -> list[Json]:
    out = []
    for what, old, new, r1, r2, proof in consistency_mutations(case):
        if old == 0 and not proof:
            continue  # from the empty tree: see above
        try:
            verify_consistency(r1, r2, ConsistencyProof(old, new, tuple(proof)))
        except ProofError as err:
            error = type(err).__name__
        else:
            continue
        out.append(
            {
                "id": f"{case['id']}: {what}",
                "mutation": what,
                "old_size": old,
                "new_size": new,
                "old_root": hx(r1),
                "new_root": hx(r2),
                "proof": [hx(h) for h in proof],
                "facegate_error": error,
            }
        )
    return out


def build_merkle() -> Json:
    rng = random.Random(9162)
    ct = Tree("ct", list(ref.CT_LEAVES))
    syn = Tree("synthetic", [synthetic_data(i) for i in range(SYNTHETIC_SIZE)])
    for n, want in enumerate(ref.CT_ROOTS):
        if ct.root(n) != want:
            raise AssertionError(f"CT known-answer root of size {n} does not match")

    inc_pairs: list[tuple[Tree, int, int]] = [(ct, i, n) for n in range(1, 9) for i in range(n)]
    con_pairs: list[tuple[Tree, int, int]] = [
        (ct, m, n) for n in range(0, 9) for m in range(0, n + 1)
    ]
    for n in SYNTHETIC_SIZES:
        indices = {0, n // 2, n - 1, rng.randrange(n)}
        inc_pairs.extend((syn, i, n) for i in sorted(indices) if 0 <= i < n)
        olds = {1, n // 2, n - 1, n, rng.randrange(1, n + 1)}
        con_pairs.extend((syn, m, n) for m in sorted(olds) if 0 < m <= n)
    con_pairs.append((syn, 0, SYNTHETIC_SIZE))

    inc_valid, inc_invalid = [], []
    for k, (tree, i, n) in enumerate(inc_pairs):
        case = inclusion_case(tree, i, n)
        inc_valid.append(case)
        if (i, n) in CT_NEGATIVE_INCLUSION if tree is ct else k % NEGATIVE_STRIDE == 0:
            inc_invalid.extend(inclusion_negatives(case))
    con_valid, con_invalid = [], []
    for k, (tree, m, n) in enumerate(con_pairs):
        case = consistency_case(tree, m, n)
        con_valid.append(case)
        if (m, n) in CT_NEGATIVE_CONSISTENCY if tree is ct else k % NEGATIVE_STRIDE == 0:
            con_invalid.extend(consistency_negatives(case))

    return {
        "description": "RFC 9162 Merkle tree test vectors generated by facegate "
        "(tests/vectors/generate.py).",
        "hashing": "SHA-256; leaf hash = SHA-256(0x00 || data); interior node = "
        "SHA-256(0x01 || left || right); empty tree = SHA-256(''). Trees split at the largest "
        "power of two below the size (RFC 9162 section 2.1.1).",
        "encoding": "byte strings are lowercase hex; proof hashes are in RFC 9162 order.",
        "semantics": {
            "inclusion": "RFC 9162 section 2.1.3; valid cases verify, invalid cases must not.",
            "consistency": "RFC 9162 section 2.1.4 for 0 < old_size < new_size. For "
            "old_size == new_size the proof is empty and the roots are equal; for old_size == 0 "
            "the proof is empty and old_root is the empty-tree root.",
        },
        "trees": {
            "ct": {
                "about": "the 8 test inputs of Certificate Transparency / transparency-dev",
                "leaf_data": [hx(d) for d in ct.data],
            },
            "synthetic": {
                "about": "leaf i is the UTF-8 text 'facegate vector leaf <i>' (i in decimal)",
                "size": SYNTHETIC_SIZE,
            },
        },
        "roots": [
            {"tree": t.name, "size": n, "root": hx(t.root(n))}
            for t, sizes in ((ct, range(9)), (syn, (0, *SYNTHETIC_SIZES)))
            for n in sizes
        ],
        "inclusion": {"valid": inc_valid, "invalid": inc_invalid},
        "consistency": {"valid": con_valid, "invalid": con_invalid},
    }


# --- checkpoints -----------------------------------------------------------------------------

LOG_NAME = "example.com/facegate-test-log"
LOG_SEED = hashlib.sha256(b"facegate public test vector log key").digest()
WITNESS_SEEDS = {
    "witness.example/w1": hashlib.sha256(b"facegate public test vector witness 1").digest(),
    "witness.example/w2": hashlib.sha256(b"facegate public test vector witness 2").digest(),
}
OTHER_SEED = hashlib.sha256(b"facegate public test vector unknown key").digest()
TIMESTAMP = 1_700_000_000


def _raw_note(text: str, signer: Signer) -> str:
    """Sign any text, even one that is not a valid checkpoint or note text."""
    return text + "\n" + signer.sign(text).line()


def _split(note: str) -> tuple[str, str]:
    at = note.rfind("\n\n")
    return note[: at + 1], note[at + 2 :]


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _pad_bits_set(b64: str) -> str:
    """The same bytes in non-canonical base64: set the unused low bit of the last character."""
    if not b64.endswith("=") or b64.endswith("=="):
        raise ValueError("needs exactly one padding character")
    last = _B64_ALPHABET[_B64_ALPHABET.index(b64[-2]) ^ 1]
    out = b64[:-2] + last + "="
    if base64.b64decode(out) != base64.b64decode(b64):
        raise AssertionError("padding bits changed the data")
    return out


def _flipper(pos: int) -> Callable[[bytes], bytes]:
    return lambda raw: flip(raw, 0, pos)


def _resign_sig_line(note: str, change: Callable[[bytes], bytes]) -> str:
    text, block = _split(note)
    first, *rest = block[:-1].split("\n")
    name, b64 = first[2:].split(" ")
    raw = change(base64.b64decode(b64))
    line = f"— {name} {base64.b64encode(raw).decode()}"
    return text + "\n" + "\n".join([line, *rest]) + "\n"


@dataclass(frozen=True)
class Fixture:
    """The keys and signed notes every checkpoint case is derived from."""

    log: Signer
    witnesses: tuple[Cosigner, ...]
    other: Signer  # an unknown log key
    same_name: Signer  # another key under the log's name
    cp: Checkpoint
    cp_ext: Checkpoint
    note: str
    note_ext: str
    cosigned: str

    @classmethod
    def make(cls) -> Fixture:
        log = Signer.from_seed(LOG_NAME, LOG_SEED)
        witnesses = tuple(Cosigner.from_seed(n, s) for n, s in WITNESS_SEEDS.items())
        syn = Tree("synthetic", [synthetic_data(i) for i in range(SYNTHETIC_SIZE)])
        cp = Checkpoint(LOG_NAME, 8, ref.CT_ROOTS[8])
        cp_ext = Checkpoint(
            LOG_NAME, SYNTHETIC_SIZE, syn.root(SYNTHETIC_SIZE), ("extension one", "ünïcödé ✓")
        )
        note = sign_checkpoint(cp, log)
        cosigned = cosign_checkpoint(note, witnesses[0], timestamp=TIMESTAMP)
        cosigned = cosign_checkpoint(cosigned, witnesses[1], timestamp=TIMESTAMP + 7)
        return cls(
            log=log,
            witnesses=witnesses,
            other=Signer.from_seed("example.org/unknown-log", OTHER_SEED),
            same_name=Signer.from_seed(LOG_NAME, OTHER_SEED),
            cp=cp,
            cp_ext=cp_ext,
            note=note,
            note_ext=sign_checkpoint(cp_ext, log),
            cosigned=cosigned,
        )

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.cp.root_hash).decode()

    def witness_verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier() for w in self.witnesses]


def valid_checkpoints(f: Fixture) -> list[Json]:
    body, block = _split(f.note)
    empty = Checkpoint(LOG_NAME, 0, EMPTY_ROOT)
    largest = Checkpoint(LOG_NAME, 2**64 - 1, f.cp.root_hash)
    out: list[Json] = []
    for case_id, text, checkpoint, about in [
        ("basic", f.note, f.cp, "the CT test tree of 8 leaves"),
        ("extensions", f.note_ext, f.cp_ext, "synthetic tree, two extension lines, UTF-8"),
        ("empty-tree", sign_checkpoint(empty, f.log), empty, "size 0, empty-tree root"),
        ("largest-size", sign_checkpoint(largest, f.log), largest, "size 2**64 - 1"),
        ("unknown-key-after", add_signature(f.note, f.other), f.cp, "an unknown key also signed"),
        (
            "unknown-key-before",
            body + "\n" + f.other.sign(body).line() + block,
            f.cp,
            "an unknown key signed first",
        ),
        (
            "same-name-other-key",
            add_signature(f.note, f.same_name),
            f.cp,
            "another key with the log's name also signed; it is unknown and ignored",
        ),
        ("cosigned", f.cosigned, f.cp, "cosigned by two witnesses (cosignature/v1)"),
    ]:
        if open_checkpoint(text, f.log.verifier()) != checkpoint:
            raise AssertionError(case_id)
        cosignatures = verify_cosignatures(text, f.witness_verifiers())
        out.append(
            {
                "id": case_id,
                "about": about,
                "note": text,
                "checkpoint": {
                    "origin": checkpoint.origin,
                    "size": checkpoint.size,
                    "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
                    "extensions": list(checkpoint.extensions),
                },
                "cosignatures": [{"name": c.name, "timestamp": c.timestamp} for c in cosignatures],
            }
        )
    return out


#: (id, note, reason, level) of one invalid note
Bad = tuple[str, str, str, str]


def tampered_notes(f: Fixture) -> list[Bad]:
    """Valid notes changed after signing."""
    note, (body, block) = f.note, _split(f.note)
    ext_body, ext_block = _split(f.note_ext)
    flipped_root = base64.b64encode(flip(f.cp.root_hash)).decode()
    changed = [
        ("origin-altered", note.replace(LOG_NAME + "\n", LOG_NAME + "x\n", 1), "origin changed"),
        ("size-altered", note.replace("\n8\n", "\n9\n", 1), "size changed"),
        ("root-altered", note.replace(f.root_b64, flipped_root), "root hash changed"),
        ("extension-added", body + "ext\n\n" + block, "extension line added"),
        (
            "extension-removed",
            ext_body.replace("extension one\n", "") + "\n" + ext_block,
            "extension line removed",
        ),
    ]
    out: list[Bad] = [(i, n, r + " after signing", "must") for i, n, r in changed]
    for pos in (4, 20, 35, 67):
        out.append(
            (
                f"signature-byte-{pos}-flipped",
                _resign_sig_line(note, _flipper(pos)),
                f"byte {pos} of the signature (after the 4-byte key ID) flipped",
                "must",
            )
        )
    first_line = _resign_sig_line(note, lambda raw: flip(raw, 0, 9)).split("\n\n")[1]
    out += [
        (
            "key-id-flipped",
            _resign_sig_line(note, lambda raw: flip(raw, 0, 0)),
            "key ID changed: the only signature is from an unknown key",
            "must",
        ),
        (
            "signature-truncated",
            _resign_sig_line(note, lambda raw: raw[:-1]),
            "signature one byte short",
            "must",
        ),
        (
            "signature-extended",
            _resign_sig_line(note, lambda raw: raw + b"\x00"),
            "signature one byte long",
            "must",
        ),
        (
            "signature-key-id-only",
            _resign_sig_line(note, lambda raw: raw[:4]),
            "signature holds only the key ID",
            "must",
        ),
        (
            "key-name-changed",
            note.replace("— " + LOG_NAME, "— " + LOG_NAME + "x"),
            "key name changed: unknown key",
            "must",
        ),
        (
            "unknown-key-only",
            sign_checkpoint(f.cp, f.other),
            "signed only by an unknown key",
            "must",
        ),
        (
            "same-name-other-key-only",
            sign_checkpoint(f.cp, f.same_name),
            "signed only by another key with the log's name",
            "must",
        ),
        (
            "trusted-key-second-signature-bad",
            body + "\n" + block + first_line,
            "a valid and an invalid signature from the trusted key",
            "should",
        ),
    ]
    return out


def malformed_notes(f: Fixture) -> list[Bad]:
    """Notes whose signed-note syntax is broken."""
    note, (body, block) = f.note, _split(f.note)
    at = len(body) + 1 + len("— " + LOG_NAME + " ") + 8
    sig_b64 = block[len("— " + LOG_NAME + " ") : -1]
    cases = [
        ("no-blank-line", body + block, "no blank line between text and signatures"),
        ("two-blank-lines", body + "\n\n" + block, "two blank lines before the signatures"),
        ("blank-line-after-signatures", note + "\n", "blank line after the signatures"),
        ("blank-line-inside-body", note.replace("\n8\n", "\n\n8\n", 1), "empty body line"),
        ("no-signatures", body + "\n", "text and blank line, no signature lines"),
        ("no-final-newline", note[:-1], "missing final newline"),
        ("crlf", note.replace("\n", "\r\n"), "CRLF line endings"),
        ("hyphen-for-em-dash", note.replace("—", "-"), "'-' instead of the em dash"),
        ("en-dash-for-em-dash", note.replace("—", "–"), "en dash instead of the em dash"),
        ("no-space-after-dash", note.replace("— ", "—"), "no space after the em dash"),
        ("two-spaces-after-dash", note.replace("— ", "—  "), "two spaces after the em dash"),
        ("trailing-space", note[:-1] + " \n", "trailing space on the signature line"),
        ("signature-not-base64", note[:at] + "!" + note[at + 1 :], "'!' in the signature"),
        (
            "signature-missing-padding",
            body + "\n" + block.replace("=", ""),
            "signature base64 without its padding",
        ),
        ("byte-order-mark", "\ufeff" + note, "byte order mark before the note"),
        (
            "control-character",
            _raw_note(f"{LOG_NAME}\x01\n8\n{f.root_b64}\n", f.log),
            "U+0001 in the origin (signed)",
        ),
        (
            "nul-in-extension",
            _raw_note(f"{LOG_NAME}\n8\n{f.root_b64}\nx\x00y\n", f.log),
            "NUL in an extension line (signed)",
        ),
    ]
    out: list[Bad] = [(i, n, r, "must") for i, n, r in cases]
    out += [
        (
            "signature-non-canonical-base64",
            note.replace(sig_b64, _pad_bits_set(sig_b64)),
            "signature base64 with non-zero padding bits",
            "facegate",
        ),
        (
            "too-many-signatures",
            body + "\n" + f.other.sign(body).line() * 100 + block,
            "101 signature lines (facegate accepts at most 100; the spec asks for 16)",
            "facegate",
        ),
    ]
    return out


def malformed_checkpoints(f: Fixture) -> list[Bad]:
    """Validly signed notes whose text is not a valid checkpoint."""
    root, root_b64 = f.cp.root_hash, f.root_b64
    empty_b64 = base64.b64encode(EMPTY_ROOT).decode()
    urlsafe_b64 = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()
    cases = [
        ("size-leading-zero", f"{LOG_NAME}\n08\n{root_b64}\n", "size with a leading zero"),
        ("size-zero-zero", f"{LOG_NAME}\n00\n{empty_b64}\n", "size '00'"),
        ("size-plus", f"{LOG_NAME}\n+8\n{root_b64}\n", "size with a plus sign"),
        ("size-space", f"{LOG_NAME}\n 8\n{root_b64}\n", "size with a leading space"),
        ("size-negative", f"{LOG_NAME}\n-8\n{root_b64}\n", "negative size"),
        ("size-hex", f"{LOG_NAME}\n0x8\n{root_b64}\n", "size in hex"),
        ("size-non-ascii-digit", f"{LOG_NAME}\n\u0668\n{root_b64}\n", "ARABIC-INDIC DIGIT 8"),
        ("size-empty", f"{LOG_NAME}\n\n{root_b64}\n", "empty size line"),
        (
            "root-31-bytes",
            f"{LOG_NAME}\n8\n{base64.b64encode(root[:31]).decode()}\n",
            "31-byte root hash",
        ),
        (
            "root-33-bytes",
            f"{LOG_NAME}\n8\n{base64.b64encode(root + b'0').decode()}\n",
            "33-byte root hash",
        ),
        ("root-hex", f"{LOG_NAME}\n8\n{root.hex()}\n", "root hash in hex"),
        ("root-unpadded", f"{LOG_NAME}\n8\n{root_b64.rstrip('=')}\n", "root base64 unpadded"),
        ("root-urlsafe", f"{LOG_NAME}\n8\n{urlsafe_b64}\n", "root in the URL-safe alphabet"),
        ("missing-root", f"{LOG_NAME}\n8\n", "only two lines"),
        ("empty-origin", f"\n8\n{root_b64}\n", "empty origin line"),
        ("empty-extension", f"{LOG_NAME}\n8\n{root_b64}\n\nx\n", "empty extension line"),
    ]
    out: list[Bad] = [(i, _raw_note(t, f.log), r + " (signed)", "must") for i, t, r in cases]
    out += [
        (
            "origin-not-key-name",
            sign_checkpoint(Checkpoint("example.com/other", 8, root), f.log),
            "origin differs from the log's key name (validly signed)",
            "facegate",
        ),
        (
            "root-non-canonical-base64",
            _raw_note(f"{LOG_NAME}\n8\n{_pad_bits_set(root_b64)}\n", f.log),
            "root base64 with non-zero padding bits (signed)",
            "facegate",
        ),
        (
            "size-too-large",
            _raw_note(f"{LOG_NAME}\n{2**64}\n{root_b64}\n", f.log),
            "size 2**64, beyond uint64 (signed)",
            "facegate",
        ),
    ]
    return out


def invalid_checkpoints(f: Fixture) -> list[Json]:
    out: list[Json] = []
    for case_id, text, reason, level in (
        tampered_notes(f) + malformed_notes(f) + malformed_checkpoints(f)
    ):
        try:
            open_checkpoint(text, f.log.verifier())
        except CheckpointError as err:
            error = type(err).__name__
        else:
            raise AssertionError(f"{case_id} was accepted")
        out.append(
            {
                "id": case_id,
                "note": text,
                "reason": reason,
                "level": level,
                "facegate_error": error,
            }
        )
    return out


def witness_invalid_checkpoints(f: Fixture) -> list[Json]:
    parsed = parse_signed_note(f.cosigned)
    log_sig, w1, w2 = parsed.signatures

    def with_w1(signature: bytes) -> str:
        return SignedNote(
            parsed.text, (log_sig, NoteSignature(w1.name, w1.key_id, signature), w2)
        ).render()

    plain = Signer.from_seed(w1.name, WITNESS_SEEDS[w1.name]).sign(parsed.text).signature
    other = parse_signed_note(
        cosign_checkpoint(
            sign_checkpoint(Checkpoint(LOG_NAME, 7, ref.CT_ROOTS[7]), f.log),
            f.witnesses[0],
            timestamp=TIMESTAMP,
        )
    ).signatures[1]
    later = (TIMESTAMP + 1).to_bytes(8, "big")
    out: list[Json] = []
    for case_id, text, reason in [
        ("cosignature-time-altered", with_w1(later + w1.signature[8:]), "witness 1 time changed"),
        ("cosignature-byte-flipped", with_w1(flip(w1.signature, 0, 40)), "witness 1 sig flipped"),
        ("cosignature-short", with_w1(w1.signature[:-1]), "witness 1 cosignature 1 byte short"),
        (
            "cosignature-of-other-checkpoint",
            with_w1(other.signature),
            "witness 1 cosignature copied from the checkpoint of size 7",
        ),
        (
            "one-witness-missing",
            cosign_checkpoint(f.note, f.witnesses[0], timestamp=TIMESTAMP),
            "only one of the two witnesses cosigned (quorum 2)",
        ),
        (
            "cosignature-without-header",
            with_w1(w1.signature[:8] + plain),
            "witness 1 signed the bare checkpoint text, not the cosignature/v1 message",
        ),
    ]:
        open_checkpoint(text, f.log.verifier())  # fine for the log key alone
        try:
            verifiers = f.witness_verifiers()
            open_checkpoint(text, f.log.verifier(), witnesses=verifiers, quorum=len(verifiers))
        except CheckpointError as err:
            error = type(err).__name__
        else:
            raise AssertionError(f"{case_id} was accepted")
        out.append({"id": case_id, "note": text, "reason": reason, "facegate_error": error})
    return out


def build_checkpoints() -> Json:
    f = Fixture.make()
    return {
        "description": "C2SP signed-note / tlog-checkpoint / tlog-cosignature test vectors "
        "generated by facegate (tests/vectors/generate.py).",
        "usage": "Open every 'valid' note with the log verifier key: it verifies and yields "
        "'checkpoint'; its cosignatures verify with the witness keys. Every 'invalid' note "
        "must be refused with the log verifier key alone ('level' says how firmly: must = "
        "the specifications forbid it, should = the note specification recommends refusing, "
        "facegate = facegate's stricter policy). Every 'witness_invalid' note verifies with "
        "the log key but must be refused when both witnesses are required.",
        "warning": "These keys are public test keys. Never trust them for anything.",
        "log_key": {
            "name": LOG_NAME,
            "seed": hx(LOG_SEED),
            "signer_key": f.log.private_key_string(),
            "verifier_key": f.log.verifier_key(),
        },
        "witness_keys": [
            {"name": w.name, "seed": hx(WITNESS_SEEDS[w.name]), "verifier_key": w.verifier_key()}
            for w in f.witnesses
        ],
        "valid": valid_checkpoints(f),
        "invalid": invalid_checkpoints(f),
        "witness_invalid": witness_invalid_checkpoints(f),
    }


# --- files -----------------------------------------------------------------------------------


def render(data: Json) -> str:
    """Indented JSON with each test case (an object with an "id") on one line."""
    cases: list[str] = []

    def mark(obj: Any) -> Any:
        if isinstance(obj, dict):
            if "id" in obj:
                cases.append(json.dumps(obj, ensure_ascii=False))
                return f"\x00{len(cases) - 1}\x00"
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(data), indent=1, ensure_ascii=False)
    for n, case in enumerate(cases):
        text = text.replace(f'"\\u0000{n}\\u0000"', case, 1)
    return text + "\n"


def outputs() -> dict[Path, str]:
    return {MERKLE_FILE: render(build_merkle()), CHECKPOINT_FILE: render(build_checkpoints())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check the files are current")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({len(text.encode()):,} bytes)")
    if stale:
        print(f"stale: {', '.join(stale)}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
