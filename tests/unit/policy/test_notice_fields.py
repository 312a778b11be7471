"""CN-FR-5 / ISO-29184 notices: every field in Chinese and English, a plain version, one hash."""

from __future__ import annotations

import pytest

from facegate.consent.notices import (
    LANGUAGES,
    REQUIRED_FIELDS,
    NoticeDraft,
    document_missing,
    fields_of,
    has_plain,
    languages_of,
    missing_fields,
    notice_hash,
    plain_of,
)
from facegate.flows.facts import document_facts

DRAFT = NoticeDraft(
    processor="Sunny Gardens",
    contact="privacy@sunny.example",
    dpo="Li Wei, dpo@sunny.example",
    purpose="Residents open the gate by face",
    necessity="Key cards are lent and lost",
    retention_days=180,
    alternative="key card",
    location_type="residential_compound",
    localized={"zh-CN": {"purpose": "住户刷脸开门", "alternative": "门禁卡"}},
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_in_every_language(language: str) -> None:
    body = DRAFT.body(language)
    assert missing_fields(body) == []
    assert set(body) == set(REQUIRED_FIELDS)
    assert "180" in body["retention"] and "180" in DRAFT.plain(language)


def test_chinese_notice_uses_the_operators_wording_and_says_refusal_costs_nothing() -> None:
    zh = DRAFT.body("zh-CN")
    assert zh["purpose"] == "住户刷脸开门"
    assert "门禁卡" in zh["refusal"] and "不收取额外费用" in zh["refusal"]
    assert "住宅小区" in zh["method"]
    assert "门禁卡" in DRAFT.plain("zh-CN")
    with pytest.raises(ValueError, match="not 'fr'"):
        DRAFT.body("fr")


def test_document_holds_both_languages_under_one_hash() -> None:
    doc = DRAFT.document(2)
    assert languages_of(doc) == ("en", "zh-CN")
    assert fields_of(doc, "en") == DRAFT.body("en")
    assert fields_of(doc, "zh-CN") == DRAFT.body("zh-CN")
    assert plain_of(doc, "zh-CN") == DRAFT.plain("zh-CN")
    assert document_missing(doc) == () and has_plain(doc)
    # the English fields stay at the top level, as version 1 notices had them
    assert missing_fields(doc) == []
    tampered = {**doc, "translations": {"zh-CN": {**DRAFT.body("zh-CN"), "rights": ""}}}
    assert notice_hash(tampered) != notice_hash(doc)
    assert document_missing(tampered) == ("rights (zh-CN)",)
    assert not has_plain(tampered)
    facts = document_facts(2, notice_hash(doc), doc)
    assert facts.missing == () and facts.plain and "zh-CN" in facts.languages


def test_flat_version_1_bodies_still_read() -> None:
    flat = {k: f"text {k}" for k in REQUIRED_FIELDS}
    assert languages_of(flat) == ("en",)
    assert fields_of(flat, "zh-CN") == flat
    assert not has_plain(flat)
    facts = document_facts(1, "x", flat)
    assert facts.languages == ("en",) and not facts.plain


def test_egress_and_capabilities_change_what_the_notice_says() -> None:
    from dataclasses import replace

    shared = replace(DRAFT, egress=True, capabilities=frozenset({"verify"}))
    assert "Nobody" in DRAFT.body()["recipients"]
    assert "separately agree" in shared.body()["recipients"]
    assert "1:N" in DRAFT.body()["method"] and "1:N" not in shared.body()["method"]
