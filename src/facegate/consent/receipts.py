"""Consent receipts in the Kantara Consent Receipt v1.1 fields, signed by the operator.

The receipt is what the person keeps. Its access code is the person's only credential for
the subject routes; facegate stores just a hash of it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.errors import InvalidInput

CR_VERSION = "KI-CR-v1.1.0"
_JURISDICTION = {"cn": "CN", "eu": "EU", "us-il": "US-IL"}


@dataclass(frozen=True)
class ReceiptFacts:
    receipt_id: str
    subject_pseudonym: str
    operator_name: str
    operator_contact: str
    operator_email: str
    operator_address: str
    operator_url: str
    deployment_id: str
    purpose: str
    jurisdiction: str
    notice_version: int
    notice_sha256: str
    method: str
    given_at: datetime
    expires_at: datetime | None
    #: face data may go to a recipient the person separately agreed to (Kantara v1.1)
    third_party_disclosure: bool


def receipt_body(facts: ReceiptFacts) -> dict[str, object]:
    termination = (
        f"on withdrawal or at {facts.expires_at.isoformat()}"
        if facts.expires_at
        else "on withdrawal or when the deployment's retention period ends"
    )
    return {
        "version": CR_VERSION,
        "jurisdiction": _JURISDICTION.get(facts.jurisdiction, facts.jurisdiction.upper()),
        "consentTimestamp": int(facts.given_at.timestamp()),
        "collectionMethod": facts.method,
        "consentReceiptID": facts.receipt_id,
        "publicKey": "",
        "language": "en",
        "piiPrincipalId": facts.subject_pseudonym,
        "piiControllers": [
            {
                "piiController": facts.operator_name,
                "contact": facts.operator_contact,
                "address": facts.operator_address,
                "email": facts.operator_email,
                "piiControllerUrl": facts.operator_url,
                "onBehalf": False,
            }
        ],
        "policyUrl": (
            f"/d/{facts.deployment_id}?notice={facts.notice_version}"
            if not facts.operator_url
            else f"{facts.operator_url.rstrip('/')}/d/{facts.deployment_id}"
            f"?notice={facts.notice_version}"
        ),
        "services": [
            {
                "service": facts.deployment_id,
                "purposes": [
                    {
                        "purpose": facts.purpose,
                        "purposeCategory": ["biometric identification"],
                        "consentType": "EXPLICIT",
                        "piiCategory": ["facial template"],
                        "primaryPurpose": True,
                        "termination": termination,
                        "thirdPartyDisclosure": facts.third_party_disclosure,
                    }
                ],
            }
        ],
        "sensitive": True,
        "spiCat": ["biometric"],
        "noticeSha256": facts.notice_sha256,
    }


def sign_receipt(body: dict[str, object], key: Ed25519PrivateKey) -> dict[str, object]:
    pub = key.public_key().public_bytes_raw()
    signed = dict(body, publicKey=base64.b64encode(pub).decode())
    sig = key.sign(canonical_json(signed))
    return {"receipt": signed, "signature": base64.b64encode(sig).decode()}


def verify_receipt(document: dict[str, object]) -> dict[str, object]:
    """Check a signed receipt against the key it names; return the receipt body."""
    try:
        body = document["receipt"]
        assert isinstance(body, dict)
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(body["publicKey"])))
        pub.verify(base64.b64decode(str(document["signature"])), canonical_json(body))
    except (KeyError, AssertionError, ValueError, InvalidSignature) as exc:
        raise InvalidInput("the consent receipt's signature does not verify") from exc
    return body


#: what a person may type for a Crockford base32 letter it has no place for
_READ_AS = str.maketrans("OIL", "011")
_CODE_CHARS = 20


def canonical_access_code(code: str) -> str:
    """The code as printed (``XXXXX-XXXXX-XXXXX-XXXXX``) from what a person typed: any case,
    with or without the dashes or with spaces, O for 0 and I or L for 1 (Crockford's rule)."""
    chars = "".join(ch for ch in code.upper() if ch.isalnum()).translate(_READ_AS)
    if len(chars) != _CODE_CHARS:
        return code.strip().upper()
    return "-".join(chars[i : i + 5] for i in range(0, _CODE_CHARS, 5))


def access_code_hash(code: str) -> str:
    return sha256_hex("facegate-access-code:" + canonical_access_code(code))
