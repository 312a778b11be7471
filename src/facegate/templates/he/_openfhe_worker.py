"""One party's OpenFHE process for threshold encrypted verification.

OpenFHE's PyPI wheels carry extensions for CPython 3.10 and 3.12 only, so facegate (3.11)
runs each party's OpenFHE work in a process of its own under that interpreter
(:mod:`facegate.templates.he.threshold` starts it). This file imports nothing of facegate:
it is run by path, reads requests from stdin and answers on stdout, each message a 4-byte
big-endian length and a pickle of plain values (bytes, floats, ints, lists, dicts).

A process holds one party's material and nothing else: a device the public key, the server
the evaluation keys, a key holder its key shares, the decision holder the context only.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any

import openfhe as fhe  # type: ignore[import-not-found]

SLOTS = 128
#: a gallery block holds POSITIONS templates, template p in slots p·128 .. p·128 + 127 (all
#: the ring's 16384 slots: two rows of 8192, which rotations turn separately, so no block of
#: 128 straddles them); devices encrypt each embedding once at every position, so a probe
#: meets every template of a block, and a template is masked to its own position when packed
POSITIONS = 128
BATCH = SLOTS * POSITIONS
#: BFV's plaintext modulus: the least prime above 2^40 that is 1 mod 2^16 (so that 16384
#: slots pack); threshold.py's MODULUS. Larger ones (2^50 and up) fail to decrypt under
#: OpenFHE's multiparty noise flooding at these parameters
PLAINTEXT_MODULUS = 1099512938497


def _context() -> Any:
    """BFV (exact integers) rather than CKKS: OpenFHE floods BFV's decryption shares with
    noise that provably hides the key shares (NOISE_FLOODING_MULTIPARTY); its threshold
    CKKS adds a fixed 20-bit noise only, which its documentation rates IND-CPA, not
    IND-CPA^D."""
    params = fhe.CCParamsBFVRNS()
    params.SetPlaintextModulus(PLAINTEXT_MODULUS)
    params.SetMultiplicativeDepth(1)
    params.SetMultipartyMode(fhe.NOISE_FLOODING_MULTIPARTY)
    params.SetBatchSize(BATCH)
    params.SetSecurityLevel(fhe.HEStd_128_classic)
    cc = fhe.GenCryptoContext(params)
    for feature in ("PKE", "KEYSWITCH", "LEVELEDSHE", "ADVANCEDSHE", "MULTIPARTY"):
        cc.Enable(getattr(fhe.PKESchemeFeature, feature))
    return cc


def _ser(obj: Any) -> bytes:
    return bytes(fhe.Serialize(obj, fhe.BINARY))


class Party:
    def __init__(self) -> None:
        self.cc: Any = None
        self.public_key: Any = None
        self.secrets: dict[int, Any] = {}

    # -- the key ceremony, one process for each key share: a share never leaves the process
    # that made it except to its holders; what passes between the processes is public
    def keygen_first(self) -> dict[str, Any]:
        """Share 0: a fresh context and key pair, the first relinearisation key-switching key
        and the first rotation-sum keys."""
        self.cc = cc = _context()
        kp = cc.KeyGen()
        self.secrets[0] = kp.secretKey
        cc.EvalSumKeyGen(kp.secretKey)
        first = cc.GetEvalSumKeyMap(kp.secretKey.GetKeyTag())
        return {
            "context": _ser(cc),
            "public_key": _ser(kp.publicKey),
            "joint": _ser(cc.KeySwitchGen(kp.secretKey, kp.secretKey)),
            "first": _ser(first),
            "sums": _ser(first),
        }

    def keygen_next(
        self,
        *,
        index: int,
        context: bytes,
        public_key: bytes,
        joint: bytes,
        first: bytes,
        sums: bytes,
    ) -> dict[str, Any]:
        """Share ``index``: joins the public key, the relinearisation key and the rotation-sum
        keys made so far."""
        self._load_context(context)
        cc = self.cc
        kp = cc.MultipartyKeyGen(fhe.DeserializePublicKeyString(public_key, fhe.BINARY))
        self.secrets[index] = sk = kp.secretKey
        tag = kp.publicKey.GetKeyTag()
        relin = fhe.DeserializeEvalKeyString(joint, fhe.BINARY)
        relin = cc.MultiAddEvalKeys(relin, cc.MultiKeySwitchGen(sk, sk, relin), tag)
        firsts = fhe.DeserializeEvalKeyMapString(first, fhe.BINARY)
        own = cc.MultiEvalSumKeyGen(sk, firsts, tag)
        total = cc.MultiAddEvalSumKeys(fhe.DeserializeEvalKeyMapString(sums, fhe.BINARY), own, tag)
        return {
            "context": context,
            "public_key": _ser(kp.publicKey),
            "joint": _ser(relin),
            "first": first,
            "sums": _ser(total),
        }

    def keygen_mult(self, joint: bytes, public_key: bytes) -> bytes:
        """This share's part of the relinearisation key, from the joint key switching."""
        (index,) = self.secrets
        tag = fhe.DeserializePublicKeyString(public_key, fhe.BINARY).GetKeyTag()
        relin = fhe.DeserializeEvalKeyString(joint, fhe.BINARY)
        return _ser(self.cc.MultiMultEvalKey(self.secrets[index], relin, tag))

    def keygen_share(self) -> bytes:
        """The share, for its holders (sealed under their keys by facegate)."""
        (index,) = self.secrets
        return _ser(self.secrets[index])

    def keygen_publish(
        self, context: bytes, public_key: bytes, parts: list[bytes], sums: bytes
    ) -> dict[str, Any]:
        """The joint evaluation keys, from public parts only."""
        self._load_context(context)
        cc = self.cc
        tag = fhe.DeserializePublicKeyString(public_key, fhe.BINARY).GetKeyTag()
        mult = None
        for blob in parts:
            part = fhe.DeserializeEvalKeyString(blob, fhe.BINARY)
            mult = part if mult is None else cc.MultiAddEvalMultKeys(mult, part, tag)
        cc.InsertEvalMultKey([mult])
        cc.InsertEvalSumKey(fhe.DeserializeEvalKeyMapString(sums, fhe.BINARY))
        return {
            "eval_mult": bytes(fhe.SerializeEvalMultKeyString(fhe.BINARY, tag)),
            "eval_sum": bytes(fhe.SerializeEvalAutomorphismKeyString(fhe.BINARY, tag)),
        }

    def _load_context(self, context: bytes) -> None:
        self.cc = fhe.DeserializeCryptoContextString(context, fhe.BINARY)

    def device(self, context: bytes, public_key: bytes) -> None:
        self._load_context(context)
        self.public_key = fhe.DeserializePublicKeyString(public_key, fhe.BINARY)

    def server(self, context: bytes, eval_mult: bytes, eval_sum: bytes) -> int:
        self._load_context(context)
        fhe.DeserializeEvalMultKeyString(eval_mult, fhe.BINARY)
        fhe.DeserializeEvalAutomorphismKeyString(eval_sum, fhe.BINARY)
        return int(self.cc.GetPlaintextModulus())

    def holder(self, context: bytes, shares: dict[int, bytes]) -> None:
        self._load_context(context)
        self.secrets = {
            int(i): fhe.DeserializePrivateKeyString(blob, fhe.BINARY) for i, blob in shares.items()
        }

    def decider(self, context: bytes) -> None:
        self._load_context(context)

    # -- the parties' work
    def encrypt(self, values: list[int]) -> bytes:
        if len(values) != SLOTS:
            raise ValueError(f"an embedding has {SLOTS} values, got {len(values)}")
        plain = self.cc.MakePackedPlaintext([int(v) for v in values] * POSITIONS)
        return _ser(self.cc.Encrypt(self.public_key, plain))

    def pack(self, block: bytes | None, template: bytes, position: int) -> bytes:
        """``block`` (None: an empty one) with ``template`` masked into ``position``: what a
        device encrypted elsewhere in its ciphertext cannot reach the other templates."""
        if not 0 <= position < POSITIONS:
            raise ValueError(f"a block has positions 0 to {POSITIONS - 1}, not {position}")
        mask = [0] * BATCH
        mask[position * SLOTS : (position + 1) * SLOTS] = [1] * SLOTS
        placed = self.cc.EvalMult(_load(template), self.cc.MakePackedPlaintext(mask))
        return _ser(placed if block is None else self.cc.EvalAdd(_load(block), placed))

    def compare(self, probe: bytes, block: bytes, tt: int, offsets: dict[int, int]) -> bytes:
        """``T² − |x − y_p|² + offset_p`` mod t in slot p·128 for each position p asked for,
        every other slot 0. ``block`` is a packed block or one template (at every position)."""
        cc, t = self.cc, PLAINTEXT_MODULUS
        if not offsets or any(not 0 <= p < POSITIONS for p in offsets):
            raise ValueError(f"a request names positions from 0 to {POSITIONS - 1}")
        diff = cc.EvalSub(_load(probe), _load(block))
        total = cc.EvalSum(cc.EvalMultAndRelinearize(diff, diff), SLOTS)
        # times -1 at the positions' first slots, 0 elsewhere: keeps each position's whole sum
        # of squared differences and zeroes the partial sums in every other slot
        select, shift = [0] * BATCH, [0] * BATCH
        for position, offset in offsets.items():
            blinded = (tt + offset) % t
            select[position * SLOTS] = -1
            shift[position * SLOTS] = blinded - t if blinded > t // 2 else blinded
        negated = cc.EvalMult(total, cc.MakePackedPlaintext(select))
        return _ser(cc.EvalAdd(negated, cc.MakePackedPlaintext(shift)))

    def partials(self, request: bytes, shares: list[int], lead: bool) -> list[bytes]:
        """This holder's decryption shares of ``request`` for the key shares asked for; the
        first is the lead share when ``lead``. OpenFHE floods each with fresh noise."""
        ct = _load(request)
        out = []
        for k, index in enumerate(shares):
            lead_share = lead and k == 0
            decrypt = self.cc.MultipartyDecryptLead if lead_share else self.cc.MultipartyDecryptMain
            out.append(_ser(decrypt([ct], self.secrets[index])[0]))
        return out

    def fuse(self, partials: list[bytes], positions: list[int]) -> list[int]:
        """Slot p·128 of the decrypted request for each position p, each in ``[0, t)``."""
        cts = [_load(p) for p in partials]
        plain = self.cc.MultipartyDecryptFusion(cts)
        plain.SetLength(BATCH)
        values = list(plain.GetPackedValue())
        wanted = [p * SLOTS for p in positions if 0 <= p < POSITIONS]
        out = [int(values[i]) % PLAINTEXT_MODULUS for i in wanted]
        for i in wanted:
            values[i] = 0
        # a decision request holds one value at each position it names and zeros elsewhere;
        # anything else, say a stored template sent as a request, is refused rather than read
        if len(wanted) != len(positions) or any(values):
            raise ValueError("not a decision request (it holds an embedding's worth of values)")
        return out


def _load(blob: bytes) -> Any:
    try:
        return fhe.DeserializeCiphertextString(blob, fhe.BINARY)
    except RuntimeError:
        raise ValueError("not an OpenFHE ciphertext") from None


def _read(stream: Any) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    return pickle.loads(stream.read(size))


def _write(stream: Any, message: Any) -> None:
    blob = pickle.dumps(message, protocol=4)
    stream.write(struct.pack(">I", len(blob)) + blob)
    stream.flush()


OPS = frozenset(
    {
        "keygen_first",
        "keygen_next",
        "keygen_mult",
        "keygen_share",
        "keygen_publish",
        "device",
        "server",
        "holder",
        "decider",
        "encrypt",
        "pack",
        "compare",
        "partials",
        "fuse",
    }
)


def main() -> None:
    # OpenFHE may print to stdout: the protocol gets its own descriptor, and fd 1 goes to stderr
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    party, inp = Party(), sys.stdin.buffer
    while (request := _read(inp)) is not None:
        op, kwargs = request
        try:
            if op not in OPS:
                raise ValueError(f"no such operation: {op}")
            _write(out, ("ok", getattr(party, op)(**kwargs)))
        except ValueError as exc:  # the input's fault: say what is wrong with it
            _write(out, ("error", str(exc)))
        except Exception as exc:  # every other failure goes back as a message too
            _write(out, ("error", f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    main()
