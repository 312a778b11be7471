"""Languages: the visitor's pick, then Accept-Language; complete Chinese catalogue."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from facegate.web import build, i18n


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, de;q=0.9", "en"),
        ("fr, zh;q=0.5, en;q=0.4", "zh-CN"),
        ("en;q=0.3, zh;q=0.7", "zh-CN"),
        ("zh;q=0, en", "en"),
        ("zh;q=banana, en", "en"),
        ("*", "en"),
    ],
)
def test_accept_language(header: str, language: str) -> None:
    assert i18n.from_accept_language(header) == language


def test_every_message_is_translated_into_chinese() -> None:
    template = build.extract_messages()
    assert len([m for m in template if m.id]) > 150
    assert build.untranslated("zh_CN", template) == []


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)[sd]|<[^>]+>", text))


def test_translations_keep_placeholders_and_markup() -> None:
    with (build.LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    for message in catalog:
        if message.id:
            assert _placeholders(message.string) == _placeholders(message.id), message.id


def test_translations_load_from_the_po_when_not_compiled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = build.LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po"
    (tmp_path / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy(po, tmp_path / "zh_CN" / "LC_MESSAGES" / "messages.po")
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)  # no .mo here
    i18n.translations.cache_clear()
    try:
        _ = i18n.gettext_for("zh-CN")
        assert _("Your data") == "您的信息"
        assert _("kept at most %(days)s days", days=30) == "最长保存 30 天"
        assert i18n.gettext_for("en")("Your data") == "Your data"
    finally:
        i18n.translations.cache_clear()


def test_dates_are_written_the_local_way() -> None:
    assert i18n.when("2026-12-06T08:30:00+00:00", "en", date_only=True) == "December 6, 2026"
    assert i18n.when("2026-12-06T08:30:00+00:00", "zh-CN", date_only=True) == "2026年12月6日"
    assert i18n.when(None, "en") == ""
