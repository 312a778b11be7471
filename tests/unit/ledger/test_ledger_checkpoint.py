"""C2SP checkpoints, signed notes and cosignatures."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.errors import LedgerError
from facegate.ledger.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    CheckpointError,
    CosignatureVerifier,
    Cosigner,
    NoteFormatError,
    NoteSignature,
    SignatureError,
    SignedNote,
    Signer,
    Verifier,
    add_signature,
    cosign_checkpoint,
    open_checkpoint,
    parse_signed_note,
    sign_checkpoint,
    verify_cosignatures,
)
from facegate.ledger.hasher import EMPTY_ROOT

# Known answers from golang.org/x/mod/sumdb/note's tests (public test keys).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01"
    "oOTGwnWLox33WWd1RvMc+QQ=\n"
)

ORIGIN = "example.com/facegate-test"
LOG = Signer.from_seed(ORIGIN, hashlib.sha256(b"test log key").digest())
WITNESS = Cosigner.from_seed("witness.example/w1", hashlib.sha256(b"test witness").digest())
WITNESS2 = Cosigner.from_seed("witness.example/w2", hashlib.sha256(b"test witness 2").digest())
ROOT = hashlib.sha256(b"some root").digest()
CP = Checkpoint(ORIGIN, 20852163, ROOT)


# --- golang.org/x/mod/sumdb/note interoperability ------------------------------------------


def test_go_note_key_known_answers() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.verifier_key() == PETER_VKEY
    assert signer.private_key_string() == PETER_SKEY
    assert Verifier.from_key(PETER_VKEY) == signer.verifier()
    assert Verifier.from_key(PETER_VKEY).verifier_key() == PETER_VKEY


def test_go_note_signature_known_answer() -> None:
    signer = Signer.from_key(PETER_SKEY)
    assert SignedNote(GO_TEXT, (signer.sign(GO_TEXT),)).render() == GO_TEXT + "\n" + PETER_SIG


def test_go_note_open_ignores_unknown_keys() -> None:
    note = parse_signed_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    assert note.text == GO_TEXT
    peter, enoch = Verifier.from_key(PETER_VKEY), Verifier.from_key(ENOCH_VKEY)
    assert [peter.verify(note.text, s) for s in note.signatures] == [True, False]
    assert [enoch.verify(note.text, s) for s in note.signatures] == [False, True]


def test_go_note_bad_signature_found() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    note = parse_signed_note(GO_TEXT + "\n" + bad)
    assert not Verifier.from_key(PETER_VKEY).verify(note.text, note.signatures[0])


def test_mangled_verifier_keys_are_refused() -> None:
    # Every proper substring and every single-character change of a valid key is refused.
    for i in range(len(PETER_VKEY)):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(ValueError):
                    Verifier.from_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(ValueError):
            Verifier.from_key(mangled)


def test_mangled_signer_keys_are_refused() -> None:
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(ValueError):
            Signer.from_key(mangled)
    with pytest.raises(ValueError):
        Signer.from_key(PETER_SKEY[:-4])


def test_key_of_the_wrong_signature_type_is_refused() -> None:
    with pytest.raises(ValueError, match="type 0x04"):
        CosignatureVerifier.from_key(PETER_VKEY)
    with pytest.raises(ValueError, match="type 0x01"):
        Verifier.from_key(WITNESS.verifier_key())


# --- key IDs -------------------------------------------------------------------------------


def test_key_ids_follow_the_spec() -> None:
    pub = LOG.public_key
    assert LOG.key_id == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + pub).digest()[:4]
    wpub = WITNESS.public_key
    want = hashlib.sha256(WITNESS.name.encode() + b"\n\x04" + wpub).digest()[:4]
    assert WITNESS.key_id == want
    vkey = WITNESS.verifier_key()
    name, key_hash, blob = vkey.split("+", 2)
    assert (name, key_hash) == (WITNESS.name, want.hex())
    assert base64.b64decode(blob) == b"\x04" + wpub
    assert CosignatureVerifier.from_key(vkey) == WITNESS.verifier()


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\nb"])
def test_bad_key_names(name: str) -> None:
    with pytest.raises(ValueError):
        Signer.from_seed(name, bytes(32))


# --- checkpoint text -------------------------------------------------------------------------


def test_checkpoint_body_format() -> None:
    cp = Checkpoint(ORIGIN, 5, EMPTY_ROOT, ("ext one", "ext two"))
    assert cp.body() == (
        f"{ORIGIN}\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\next two\n"
    )
    assert Checkpoint.from_body(cp.body()) == cp


@settings(max_examples=100, deadline=None)
@given(
    origin=st.text(alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1),
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1),
        max_size=3,
    ),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.from_body(cp.body()) == cp


GOOD_ROOT = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFF] * 32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n{GOOD_ROOT}",  # no final newline
        f"{ORIGIN}\n5\n",  # no root
        f"\n5\n{GOOD_ROOT}\n",  # empty origin
        f"{ORIGIN}\n05\n{GOOD_ROOT}\n",  # leading zero
        f"{ORIGIN}\n00\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n+5\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n-5\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n 5\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n5 \n{GOOD_ROOT}\n",
        f"{ORIGIN}\n1_000\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n\u0665\n{GOOD_ROOT}\n",  # ARABIC-INDIC DIGIT FIVE
        f"{ORIGIN}\n0x5\n{GOOD_ROOT}\n",
        f"{ORIGIN}\n18446744073709551616\n{GOOD_ROOT}\n",  # 2**64
        f"{ORIGIN}\n5\n{GOOD_ROOT[:-4]}\n",  # root too short
        f"{ORIGIN}\n5\n{base64.b64encode(ROOT + b'x').decode()}\n",  # root too long
        f"{ORIGIN}\n5\n{GOOD_ROOT[:-1]}\n",  # padding missing
        f"{ORIGIN}\n5\n{GOOD_ROOT[:-2]}B=\n",  # non-canonical padding bits
        f"{ORIGIN}\n5\n{GOOD_ROOT.replace('=', '')}==\n",
        f"{ORIGIN}\n5\n{URLSAFE_ROOT}\n",  # URL-safe alphabet
        f"{ORIGIN}\n5\n {GOOD_ROOT}\n",
        f"{ORIGIN}\n5\n{GOOD_ROOT}\n\n",  # empty extension line
        f"{ORIGIN}\n5\n{GOOD_ROOT}\n\next\n",
        f"{ORIGIN}\r\n5\n{GOOD_ROOT}\n",  # CR
        f"{ORIGIN}\x00\n5\n{GOOD_ROOT}\n",  # NUL
    ],
)
def test_malformed_checkpoint_bodies(body: str) -> None:
    with pytest.raises(NoteFormatError):
        Checkpoint.from_body(body)


def test_checkpoint_construction_misuse() -> None:
    with pytest.raises(ValueError):
        Checkpoint("", 1, ROOT)
    with pytest.raises(ValueError):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(ValueError):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(ValueError):
        Checkpoint(ORIGIN, 2**64, ROOT)
    with pytest.raises(ValueError):
        Checkpoint(ORIGIN, 1, ROOT[:31])
    with pytest.raises(ValueError):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
    with pytest.raises(TypeError):
        Checkpoint(ORIGIN, 1, ROOT, "ext")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Checkpoint(ORIGIN, True, ROOT)


# --- signed checkpoints --------------------------------------------------------------------


def test_sign_and_open() -> None:
    note = sign_checkpoint(CP, LOG)
    assert note.startswith(CP.body() + "\n— " + ORIGIN + " ")
    assert note.count("\n") == 5
    assert open_checkpoint(note, LOG.verifier()) == CP
    assert open_checkpoint(note.encode(), Verifier.from_key(LOG.verifier_key())) == CP


def test_signature_is_over_the_exact_text() -> None:
    note = parse_signed_note(sign_checkpoint(CP, LOG))
    sig = note.signatures[0]
    assert sig.key_id == LOG.key_id
    Ed25519PublicKey.from_public_bytes(LOG.public_key).verify(sig.signature, CP.body().encode())


def test_unknown_signatures_are_ignored() -> None:
    other = Signer.generate("other.example/log")
    note = add_signature(sign_checkpoint(CP, LOG), other)
    note = add_signature(note, Signer.generate(ORIGIN))  # same name, other key
    assert len(parse_signed_note(note).signatures) == 3
    assert open_checkpoint(note, LOG.verifier()) == CP
    with pytest.raises(SignatureError, match="no signature from the trusted key"):
        open_checkpoint(add_signature(sign_checkpoint(CP, other), other), LOG.verifier())


def test_a_failing_trusted_signature_rejects_the_note() -> None:
    note = sign_checkpoint(CP, LOG)
    parsed = parse_signed_note(note)
    good = parsed.signatures[0]
    bad = NoteSignature(good.name, good.key_id, bytes([good.signature[0] ^ 1]) + good.signature[1:])
    twice = parsed.text + "\n" + good.line() + bad.line()
    with pytest.raises(SignatureError, match="does not verify"):
        open_checkpoint(twice, LOG.verifier())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (ORIGIN, "example.com/other"),
        ("\n20852163\n", "\n20852164\n"),
        (GOOD_ROOT, base64.b64encode(EMPTY_ROOT).decode()),
    ],
)
def test_altered_fields_break_the_signature(old: str, new: str) -> None:
    note = sign_checkpoint(CP, LOG)
    body, sigs = note.split("\n\n")
    altered = body.replace(old, new, 1) + "\n\n" + sigs
    assert altered != note
    with pytest.raises(CheckpointError):
        open_checkpoint(altered, LOG.verifier())


def test_origin_must_match() -> None:
    cp = Checkpoint("example.com/other", 1, ROOT)
    note = sign_checkpoint(cp, LOG)
    with pytest.raises(CheckpointError, match="another log") as err:
        open_checkpoint(note, LOG.verifier())
    assert err.value.expected == ORIGIN
    assert open_checkpoint(note, LOG.verifier(), origin="example.com/other") == cp


def note_variants() -> list[str]:
    note = sign_checkpoint(CP, LOG)
    body, sig = note.split("\n\n")
    return [
        body + "\n" + sig,  # no blank line
        body + "\n\n\n" + sig,  # two blank lines
        note + "\n",  # blank line after the signatures
        note[:-1],  # no final newline
        body + "\n\n",  # no signatures
        note.replace("—", "-"),  # hyphen for the em dash
        note.replace("— ", "—"),
        note.replace("— ", "—  "),
        note[:-1] + " \n",  # trailing space
        note.replace("=\n", "\n"),  # broken base64 padding
        note.replace("\n", "\r\n"),
        "\ufeff" + note,
        note.replace(ORIGIN + " ", ORIGIN + "+x "),  # '+' in the key name
        body + "\n\n— " + ORIGIN + " " + base64.b64encode(LOG.key_id).decode() + "\n",
    ]


@pytest.mark.parametrize("note", note_variants())
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(CheckpointError):
        open_checkpoint(note, LOG.verifier())


def test_invalid_utf8_and_size_limits() -> None:
    note = sign_checkpoint(CP, LOG).encode()
    with pytest.raises(NoteFormatError, match="UTF-8"):
        parse_signed_note(b"\xff" + note)
    with pytest.raises(NoteFormatError, match="UTF-8"):
        parse_signed_note(note.decode() + "\ud800\n")
    sig = note.decode().split("\n\n")[1]
    many = CP.body() + "\n" + sig * (MAX_SIGNATURES + 1)
    with pytest.raises(NoteFormatError, match="too many"):
        parse_signed_note(many)
    assert len(parse_signed_note(CP.body() + "\n" + sig * 16).signatures) == 16


# --- cosignatures ---------------------------------------------------------------------------


def test_cosignature_format() -> None:
    note = cosign_checkpoint(sign_checkpoint(CP, LOG), WITNESS, timestamp=1679315147)
    parsed = parse_signed_note(note)
    cosig = parsed.signatures[1]
    assert cosig.name == WITNESS.name
    assert cosig.key_id == WITNESS.key_id
    assert cosig.signature[:8] == (1679315147).to_bytes(8, "big")
    message = b"cosignature/v1\ntime 1679315147\n" + CP.body().encode()
    Ed25519PublicKey.from_public_bytes(WITNESS.public_key).verify(cosig.signature[8:], message)
    assert verify_cosignatures(note, [WITNESS.verifier()])[0].timestamp == 1679315147


def test_witness_quorum() -> None:
    note = sign_checkpoint(CP, LOG)
    note = cosign_checkpoint(note, WITNESS, timestamp=10)
    note = cosign_checkpoint(note, WITNESS, timestamp=20)  # replaces its earlier line
    assert len(parse_signed_note(note).signatures) == 2
    witnesses = [WITNESS.verifier(), WITNESS2.verifier()]
    assert open_checkpoint(note, LOG.verifier(), witnesses=witnesses, quorum=1) == CP
    with pytest.raises(SignatureError, match="too few witnesses") as err:
        open_checkpoint(note, LOG.verifier(), witnesses=witnesses, quorum=2)
    assert (err.value.expected, err.value.computed) == (2, 1)
    note = cosign_checkpoint(note, WITNESS2, timestamp=30)
    assert open_checkpoint(note, LOG.verifier(), witnesses=witnesses, quorum=2) == CP
    got = {c.name: c.timestamp for c in verify_cosignatures(note, witnesses)}
    assert got == {WITNESS.name: 20, WITNESS2.name: 30}
    with pytest.raises(ValueError):
        open_checkpoint(note, LOG.verifier(), witnesses=witnesses, quorum=3)


def test_tampered_cosignature_is_rejected() -> None:
    note = parse_signed_note(cosign_checkpoint(sign_checkpoint(CP, LOG), WITNESS, timestamp=10))
    cosig = note.signatures[1]
    later = NoteSignature(cosig.name, cosig.key_id, (11).to_bytes(8, "big") + cosig.signature[8:])
    forged = SignedNote(note.text, (note.signatures[0], later)).render()
    with pytest.raises(SignatureError):
        verify_cosignatures(forged, [WITNESS.verifier()])
    with pytest.raises(SignatureError):
        open_checkpoint(forged, LOG.verifier(), witnesses=[WITNESS.verifier()], quorum=1)
    # Without witnesses configured the cosignature is just an unknown line.
    assert open_checkpoint(forged, LOG.verifier()) == CP


def test_cosigning_needs_a_checkpoint_and_a_valid_time() -> None:
    with pytest.raises(NoteFormatError):
        cosign_checkpoint(GO_TEXT + "\n" + PETER_SIG, WITNESS, timestamp=1)
    note = sign_checkpoint(CP, LOG)
    with pytest.raises(ValueError):
        cosign_checkpoint(note, WITNESS, timestamp=-1)
    with pytest.raises(ValueError):
        cosign_checkpoint(note, WITNESS, timestamp=2**63)


def test_checkpoint_errors_are_ledger_errors() -> None:
    with pytest.raises(LedgerError) as err:
        open_checkpoint("nonsense", LOG.verifier())
    assert err.value.to_dict()["error"] == "ledger_note_malformed"
