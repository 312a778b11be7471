"""Reports to HTML (Jinja2, autoescaped) and PDF (WeasyPrint: no browser, no network).

Chinese text needs a font with CJK glyphs. The PDF sets it in the first installed family of
:data:`~facegate.reports.layout.CJK_FAMILIES` (on Debian: ``apt-get install
fonts-noto-cjk``), or in a font file given explicitly; when none is found, rendering stops
with advice instead of writing a PDF full of empty boxes. WeasyPrint subsets the embedded
fonts with HarfBuzz when ``libharfbuzz-subset0`` is installed (about 1.5 s a report), and
falls back to fontTools otherwise (about ten times slower, same output).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from facegate.errors import ConfigError, InvalidInput
from facegate.reports.document import Report
from facegate.reports.layout import CJK_FAMILIES, TEMPLATE, css_string, style

_CUSTOM_FAMILY = "facegate-report-font"


@dataclass(frozen=True)
class Rendered:
    path: Path
    format: str  # "html" or "pdf"
    bytes: int
    seconds: float


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE)


def render_html(report: Report, *, font: Path | None = None) -> str:
    # Latin text in DejaVu Sans, Chinese in the first CJK family installed: subsetting one
    # CJK face instead of several keeps a PDF at about a second.
    families = ((_CUSTOM_FAMILY,) if font else ()) + ("DejaVu Sans", *CJK_FAMILIES)
    css = style(footer=f"{report.title_zh} · {report.subject}", families=families)
    if font is not None:
        css = (
            f"@font-face {{ font-family: {css_string(_CUSTOM_FAMILY)}; "
            f"src: url({css_string(font.resolve().as_uri())}); }}\n{css}"
        )
    return _template().render(report=report, style=css, digest=report.sha256())


def render_pdf(report: Report, *, font: Path | None = None) -> bytes:
    """The report as a PDF. :class:`ConfigError` when no font can set Chinese text."""
    check_pdf_font(font)
    pdf = _weasyprint_html()(string=render_html(report, font=font)).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def check_target(path: Path, *, font: Path | None = None) -> str:
    """The format ``path`` asks for ("html" or "pdf"), after checking that it can be made:
    call before recording anything, so a bad name or a missing font fails first."""
    suffix = path.suffix.lower()
    if suffix not in {".html", ".htm", ".pdf"}:
        raise InvalidInput(
            f"cannot tell the format of {path.name!r} from its suffix",
            advice="Name the output FILE.html or FILE.pdf.",
        )
    if not path.parent.is_dir():
        raise InvalidInput(f"folder {path.parent} does not exist")
    if suffix == ".pdf":
        check_pdf_font(font)
        return "pdf"
    return "html"


def check_pdf_font(font: Path | None) -> None:
    if font is not None and not font.is_file():
        raise InvalidInput(f"font file {font} does not exist")
    if font is None and not has_cjk_font():
        raise ConfigError(
            "no font with Chinese glyphs is installed, so the PDF would show empty boxes",
            advice=(
                "Install one (Debian/Ubuntu: apt-get install fonts-noto-cjk), or pass a\n"
                "TrueType/OpenType font file with --font, or write .html instead."
            ),
        )


def write_report(report: Report, path: Path, *, font: Path | None = None) -> Rendered:
    """Write ``report`` to ``path``; the suffix (.html, .htm or .pdf) picks the format."""
    fmt = check_target(path, font=font)
    started = time.perf_counter()
    data = (
        render_pdf(report, font=font) if fmt == "pdf" else render_html(report, font=font).encode()
    )
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write {path}: {exc.strerror}", advice="Check the folder and its permissions."
        ) from None
    return Rendered(
        path=path,
        format=fmt,
        bytes=len(data),
        seconds=time.perf_counter() - started,
    )


def _weasyprint_html() -> Any:
    """WeasyPrint's ``HTML`` class. Importing WeasyPrint switches on Pillow's process-wide
    ``LOAD_TRUNCATED_IMAGES``, which facegate's image decoding refuses to run with (a
    truncated photo must be an error); the setting is put back at once. Reports hold no
    images, so WeasyPrint never needs it."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML


@cache
def has_cjk_font() -> bool:
    """Whether fontconfig knows a font covering Simplified Chinese. If ``fc-list`` itself is
    missing this cannot be told, and rendering goes ahead."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    try:
        found = subprocess.run(
            [fc_list, ":lang=zh-cn", "family"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return True
    return bool(found.strip())
