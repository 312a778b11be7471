"""Languages of the pages: the visitor's choice, then their browser's, then English.

Pages are written in English and translated with gettext catalogues (``locale/``, built by
:mod:`facegate.web.build`). The language a visitor picks (``?lang=zh-CN``, remembered in the
``fg_lang`` cookie) wins over ``Accept-Language``. A notice is not translated here: each
deployment publishes its own text in every language (:mod:`facegate.consent.notices`).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

from facegate.web.build import DOMAIN, LOCALE

LANGUAGES: Final = ("en", "zh-CN")
DEFAULT: Final = "en"
COOKIE: Final = "fg_lang"
#: what each language is called in itself, for the language switch
NAMES: Final = {"en": "English", "zh-CN": "简体中文"}


def babel_locale(language: str) -> str:
    return language.replace("-", "_")


def choice(request: Request) -> str | None:
    """The language the visitor picked on this request (``?lang=``), if a known one."""
    lang = request.query_params.get("lang")
    return lang if lang in LANGUAGES else None


def negotiate(request: Request) -> str:
    """The page language: the visitor's pick, their remembered pick, their browser's."""
    picked = choice(request) or request.cookies.get(COOKIE)
    if picked in LANGUAGES:
        return str(picked)
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    """The first of our languages in an ``Accept-Language`` header, by quality then order;
    any Chinese tag (zh, zh-CN, zh-Hans, zh-TW ...) reads as zh-CN, any English one as en."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if q > 0:
            ranked.append((-q, n, tag.strip().lower()))
    for _q, _n, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary == "zh":
            return "zh-CN"
        if primary == "en":
            return "en"
    return DEFAULT


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language``; compiled in memory from the ``.po`` when the
    build has not run (or the ``.po`` is newer), so a fresh checkout still speaks Chinese."""
    if language == DEFAULT:
        return NullTranslations()
    po = LOCALE / babel_locale(language) / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    with po.open("rb") as f:
        catalog = read_po(f, locale=babel_locale(language))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def when(value: datetime | str | None, language: str, *, date_only: bool = False) -> str:
    """A date and time as people of ``language`` write it, in UTC (said so)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    locale = Locale.parse(babel_locale(language))
    if date_only:
        return format_date(moment, format="long", locale=locale)
    return format_datetime(moment, format="medium", tzinfo=UTC, locale=locale) + " UTC"


def gettext_for(language: str) -> Callable[..., str]:
    """``_`` for Python code: the message in ``language``, ``%(name)s`` filled from keywords
    (as the templates' newstyle gettext does)."""
    catalogue = translations(language)

    def _(message: str, **values: object) -> str:
        text = catalogue.gettext(message)
        return text % values if values else text

    return _
