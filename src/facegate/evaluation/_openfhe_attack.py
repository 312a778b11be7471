"""The custody attacker of threshold encrypted verification, run under OpenFHE's interpreter.

It holds what it stole (the public context and some key shares) and decrypts a stored
ciphertext with them directly in OpenFHE, with none of the key holders' checks. Reads one
pickle ``(context, {share index: private key}, ciphertext)`` on stdin; writes a pickle of the
decrypted slots (integers: facegate encrypts each value times 2^10), or of the message
OpenFHE refused with. Imports nothing of facegate.
"""

from __future__ import annotations

import pickle
import sys

import openfhe as fhe  # type: ignore[import-not-found]


def main() -> None:
    context, shares, ciphertext = pickle.loads(sys.stdin.buffer.read())
    cc = fhe.DeserializeCryptoContextString(context, fhe.BINARY)
    ct = fhe.DeserializeCiphertextString(ciphertext, fhe.BINARY)
    keys = [fhe.DeserializePrivateKeyString(shares[i], fhe.BINARY) for i in sorted(shares)]
    partials = [cc.MultipartyDecryptLead([ct], keys[0])[0]]
    partials += [cc.MultipartyDecryptMain([ct], k)[0] for k in keys[1:]]
    try:
        plain = cc.MultipartyDecryptFusion(partials)
        plain.SetLength(128)
        result: object = [int(v) for v in plain.GetPackedValue()]
    except RuntimeError as exc:  # OpenFHE refuses to decode some malformed results
        result = str(exc)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=4))


if __name__ == "__main__":
    main()
