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

PARTIES = 3
SLOTS = 128
#: devices encrypt each embedding twice over (slots 0-255), so that the rotation sum leaves
#: the whole squared distance in slots 0-128; a request keeps it in CHECKS of them
COPIES = 2
CHECKS = 16
#: BFV's plaintext modulus: the least prime above 2^40 that is 1 mod 2^16 (so that 16384
#: slots pack); |z| = r·|margin| + e stays below 2^39 (threshold.py), so it never wraps
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
    params.SetBatchSize(SLOTS * COPIES)
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

    # -- the key ceremony: the three holders' shares, the joint public and evaluation keys
    def ceremony(self) -> dict[str, Any]:
        cc = _context()
        pairs = [cc.KeyGen()]
        for _ in range(PARTIES - 1):
            pairs.append(cc.MultipartyKeyGen(pairs[-1].publicKey))
        tag = pairs[-1].publicKey.GetKeyTag()
        # relinearisation key: joint key switching from s^2 to s, then each share's product
        joint = cc.KeySwitchGen(pairs[0].secretKey, pairs[0].secretKey)
        for kp in pairs[1:]:
            own = cc.MultiKeySwitchGen(kp.secretKey, kp.secretKey, joint)
            joint = cc.MultiAddEvalKeys(joint, own, kp.publicKey.GetKeyTag())
        mult = None
        for kp in pairs:
            part = cc.MultiMultEvalKey(kp.secretKey, joint, tag)
            mult = part if mult is None else cc.MultiAddEvalMultKeys(mult, part, tag)
        cc.InsertEvalMultKey([mult])
        # rotation-sum keys
        cc.EvalSumKeyGen(pairs[0].secretKey)
        first = cc.GetEvalSumKeyMap(pairs[0].secretKey.GetKeyTag())
        sums = first
        for kp in pairs[1:]:
            own = cc.MultiEvalSumKeyGen(kp.secretKey, first, kp.publicKey.GetKeyTag())
            sums = cc.MultiAddEvalSumKeys(sums, own, kp.publicKey.GetKeyTag())
        cc.InsertEvalSumKey(sums)
        return {
            "context": _ser(cc),
            "public_key": _ser(pairs[-1].publicKey),
            "eval_mult": bytes(fhe.SerializeEvalMultKeyString(fhe.BINARY, tag)),
            "eval_sum": bytes(fhe.SerializeEvalAutomorphismKeyString(fhe.BINARY, tag)),
            "key_shares": [_ser(kp.secretKey) for kp in pairs],
        }

    def _load_context(self, context: bytes) -> None:
        self.cc = fhe.DeserializeCryptoContextString(context, fhe.BINARY)

    def device(self, context: bytes, public_key: bytes) -> None:
        self._load_context(context)
        self.public_key = fhe.DeserializePublicKeyString(public_key, fhe.BINARY)

    def server(self, context: bytes, eval_mult: bytes, eval_sum: bytes) -> None:
        self._load_context(context)
        fhe.DeserializeEvalMultKeyString(eval_mult, fhe.BINARY)
        fhe.DeserializeEvalAutomorphismKeyString(eval_sum, fhe.BINARY)

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
        plain = self.cc.MakePackedPlaintext([int(v) for v in values] * COPIES)
        return _ser(self.cc.Encrypt(self.public_key, plain))

    def compare(self, probe: bytes, template: bytes, tt: int, r: list[int], e: list[int]) -> bytes:
        """z_i = r_i·(T² − |x − y|²) + e_i in slots i < CHECKS (integers), every other slot 0."""
        if not len(r) == len(e) == CHECKS:
            raise ValueError(f"a request has {CHECKS} masks")
        cc = self.cc
        diff = cc.EvalSub(_load(probe), _load(template))
        total = cc.EvalSum(cc.EvalMultAndRelinearize(diff, diff), SLOTS)
        # the plaintext [-r_0 .. -r_15] keeps the first slots and zeroes the others, where
        # the rotation sum left sums of squared differences
        margin = cc.EvalSub(total, cc.MakePackedPlaintext([tt] * CHECKS))
        z = cc.EvalMult(margin, cc.MakePackedPlaintext([-v for v in r]))
        return _ser(cc.EvalAdd(z, cc.MakePackedPlaintext(list(e))))

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

    def fuse(self, partials: list[bytes]) -> list[int]:
        cts = [_load(p) for p in partials]
        plain = self.cc.MultipartyDecryptFusion(cts)
        plain.SetLength(SLOTS * COPIES)
        values = plain.GetPackedValue()
        # a decision request holds its values in the first slots and zeros elsewhere;
        # anything else, say a stored template sent as a request, is refused rather than read
        if any(values[CHECKS:]):
            raise ValueError("not a decision request (it holds an embedding's worth of values)")
        return [int(v) for v in values[:CHECKS]]


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
    {"ceremony", "device", "server", "holder", "decider", "encrypt", "compare", "partials", "fuse"}
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
