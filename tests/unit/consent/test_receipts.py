from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from facegate.consent.notices import REQUIRED_FIELDS, NoticeDraft, missing_fields, notice_hash
from facegate.consent.receipts import (
    ReceiptFacts,
    access_code_hash,
    receipt_body,
    sign_receipt,
    verify_receipt,
)
from facegate.errors import InvalidInput

FACTS = ReceiptFacts(
    receipt_id="con_1",
    subject_pseudonym="ab" * 16,
    operator_name="Sunny Gardens",
    operator_contact="office@example.org",
    operator_email="privacy@example.org",
    operator_address="1 Garden Road, Shanghai",
    operator_url="https://gate.example.org/",
    deployment_id="dep_1",
    purpose="Residents open the gate",
    jurisdiction="cn",
    notice_version=1,
    notice_sha256="00" * 32,
    method="signed_form",
    given_at=datetime(2026, 1, 1, tzinfo=UTC),
    expires_at=None,
    third_party_disclosure=False,
)
KANTARA = (
    "version",
    "jurisdiction",
    "consentTimestamp",
    "collectionMethod",
    "consentReceiptID",
    "piiPrincipalId",
    "piiControllers",
    "policyUrl",
    "services",
    "sensitive",
    "spiCat",
)


def test_receipt_has_kantara_fields_and_verifies() -> None:
    body = receipt_body(FACTS)
    assert set(KANTARA) <= body.keys()
    purpose = body["services"][0]["purposes"][0]  # type: ignore[index]
    for field in (
        "purposeCategory",
        "consentType",
        "piiCategory",
        "termination",
        "thirdPartyDisclosure",
    ):
        assert field in purpose
    # Kantara v1.1 controller fields, and the disclosure as it really is
    (controller,) = body["piiControllers"]  # type: ignore[misc]
    assert controller == {
        "piiController": "Sunny Gardens",
        "contact": "office@example.org",
        "address": "1 Garden Road, Shanghai",
        "email": "privacy@example.org",
        "piiControllerUrl": "https://gate.example.org/",
        "onBehalf": False,
    }
    assert body["policyUrl"] == "https://gate.example.org/d/dep_1?notice=1"
    assert purpose["thirdPartyDisclosure"] is False
    shared = receipt_body(replace(FACTS, third_party_disclosure=True))
    assert shared["services"][0]["purposes"][0]["thirdPartyDisclosure"] is True  # type: ignore[index]
    signed = sign_receipt(body, Ed25519PrivateKey.generate())
    assert verify_receipt(signed)["consentReceiptID"] == "con_1"


def test_tampered_receipt_fails() -> None:
    signed = sign_receipt(receipt_body(FACTS), Ed25519PrivateKey.generate())
    signed["receipt"]["purpose_extra"] = "sell to advertisers"  # type: ignore[index]
    with pytest.raises(InvalidInput):
        verify_receipt(signed)


def test_notice_has_every_required_field_and_a_stable_hash() -> None:
    draft = NoticeDraft(
        processor="Sunny Gardens",
        contact="+86 21 5555 0100",
        dpo="Li Wei, dpo@sunny.example",
        purpose="Open the gate",
        necessity="Cards get lost",
        retention_days=30,
        alternative="key card",
        location_type="residential_compound",
    )
    body = draft.body()
    assert missing_fields(body) == []
    assert set(REQUIRED_FIELDS) <= body.keys()
    assert notice_hash(body) == notice_hash(dict(reversed(list(body.items()))))
    assert notice_hash(body) != notice_hash({**body, "purpose": "Sell data"})
    assert missing_fields({**body, "rights": " "}) == ["rights"]
    # a notice without a contact is incomplete, never papered over
    assert missing_fields(replace(draft, contact="").body()) == ["contact"]


def test_an_access_code_is_read_as_people_type_it() -> None:
    """Dashes, spaces, case and Crockford's look-alikes (O for 0, I or L for 1) do not lock
    a person out of their rights; another code is another code."""
    printed = "0BC1D-EFGH1-JKMNP-QRST0"
    digest = access_code_hash(printed)
    for typed in (
        "0bc1d-efgh1-jkmnp-qrst0",
        "0BC1DEFGH1JKMNPQRST0",
        " 0bc1d efgh1 jkmnp qrst0 ",
        "OBCID-EFGHL-JKMNP-QRSTO",
    ):
        assert access_code_hash(typed) == digest, typed
    assert access_code_hash("0BC1D-EFGH1-JKMNP-QRST1") != digest
    assert access_code_hash("0BC1D-EFGH1-JKMNP-QRST") != digest  # one character short
