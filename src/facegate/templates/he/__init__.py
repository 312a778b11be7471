"""Encrypted verification: the server holds only ciphertexts; a separate decision holder
learns accept or reject, never a score. Optional: ``pip install 'facegate[he]'`` (TenSEAL).

Three parties (:mod:`facegate.templates.he.parties`):

* the **capture device** holds the public key only; it encrypts the probe embedding where
  the face is captured, and the enrolment embedding at enrolment;
* the **server** holds the encrypted gallery and the evaluation keys, never a secret key.
  For a comparison it computes, under encryption, ``z = r·(T² - |x - y|²) + e``: the
  margin of the squared euclidean distance against the threshold ``T``, multiplied by a
  fresh random ``r > 0`` (log-uniform over 2^0..2^16) and flooded with fresh noise ``e``;
* the **decision holder** holds the secret key and sees only ``z``: its sign is the
  decision. The secret key is kept sealed under a key-encryption key split 2-of-3 among
  custodians (:mod:`facegate.custody`), so the decision holder itself starts from shares.

What each learns is stated in docs/template-protection.md ("encrypted mode"); in short the
decision holder learns the bit and ``|margin|`` only up to the unknown factor ``r``
(a 2^16 range), and never a distance, a probe or a template.

:mod:`facegate.templates.he.threshold` is the same comparison with OpenFHE's multiparty BFV:
the decision key never exists whole; two of three key holders answer each decision request
with decryption shares, and one holder alone decrypts nothing. There the decision holder
decrypts only the margin plus an offset the server keeps, uniform whatever the faces, and
learns the decision from a comparison with the server that shows it one bit
(:mod:`facegate.templates.he.compare`).
"""

from facegate.templates.he.parties import (
    HE_DECISION_KEY,
    CaptureDevice,
    DecisionHolder,
    EncryptedVerifier,
    HeKeys,
    he_available,
)
from facegate.templates.he.threshold import (
    DecisionRequest,
    KeyHolder,
    ThresholdDecisionHolder,
    ThresholdDevice,
    ThresholdSetup,
    ThresholdVerifier,
    threshold_available,
)

__all__ = [
    "HE_DECISION_KEY",
    "CaptureDevice",
    "DecisionHolder",
    "DecisionRequest",
    "EncryptedVerifier",
    "HeKeys",
    "KeyHolder",
    "ThresholdDecisionHolder",
    "ThresholdDevice",
    "ThresholdSetup",
    "ThresholdVerifier",
    "he_available",
    "threshold_available",
]
