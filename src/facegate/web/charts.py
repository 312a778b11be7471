"""Charts drawn on the server as SVG: no chart library, no script, readable without colour.

Each chart is an image with a title and a description for screen readers; the page also
shows the same numbers in a table. Bars carry their value as text, and the two series of a
paired chart differ by pattern (solid and outlined) as well as by colour. Every label is
escaped here: this is the one place outside the templates that builds markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from facegate.web.stats import Figures

INK: Final = "#1a1a1a"
BLUE: Final = "#1d4e89"
ORANGE: Final = "#9c4310"
GRID: Final = "#767676"
_FONT: Final = 'font-family="system-ui, sans-serif" font-size="12"'


def _frame(chart_id: str, title: str, desc: str, body: str, *, width: int, height: int) -> Markup:
    return Markup(
        f'<svg role="img" aria-labelledby="{chart_id}-t {chart_id}-d" viewBox="0 0 {width} '
        f'{height}" width="100%" preserveAspectRatio="xMinYMin meet" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>{body}</svg>'
    )


def _scale(values: Sequence[int]) -> int:
    """The axis top: four equal, round steps reaching the largest value (at least 4)."""
    need = max([*values, 1])
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if step * 4 >= need:
            return step * 4
    return -(-need // 4) * 4


def bars(
    chart_id: str,
    title: str,
    desc: str,
    points: Sequence[tuple[str, int]],
    *,
    second: Sequence[int] | None = None,
    width: int = 640,
    height: int = 240,
) -> Markup:
    """Vertical bars, one group per label; with ``second``, a second (outlined) bar beside
    each first one."""
    if second is not None and len(second) != len(points):
        raise ValueError("the second series needs one value per label")
    left, bottom, top_pad = 36, 40, 16
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    values = [v for _, v in points] + list(second or [])
    top = _scale(values)
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = slot * (0.38 if second is not None else 0.7)
    parts = [_axis(left, top_pad, plot_w, plot_h, top)]
    for i, (label, value) in enumerate(points):
        x = left + i * slot + (slot - bar_w * (2 if second is not None else 1)) / 2
        parts.append(_bar(x, bar_w, value, (top, top_pad, plot_h), solid=True))
        if second is not None:
            parts.append(_bar(x + bar_w, bar_w, second[i], (top, top_pad, plot_h), solid=False))
        if n <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" fill="{INK}" {_FONT}>{escape(label)}</text>'
            )
    return _frame(chart_id, title, desc, "".join(parts), width=width, height=height)


def _axis(left: int, top_pad: int, plot_w: float, plot_h: float, top: int) -> str:
    out = []
    for k in range(5):
        value = top * k // 4
        y = top_pad + plot_h - plot_h * k / 4
        out.append(
            f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="{1 if k == 0 else 0.4}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}" {_FONT}>'
            f"{value}</text>"
        )
    return "".join(out)


def _bar(x: float, w: float, value: int, frame: tuple[int, int, float], *, solid: bool) -> str:
    """One bar of ``value``; ``frame`` is (axis top value, top padding, plot height)."""
    top, top_pad, plot_h = frame
    h = plot_h * value / top if top else 0
    y = top_pad + plot_h - h
    style = f'fill="{BLUE}"' if solid else f'fill="#fff" stroke="{ORANGE}" stroke-width="2"'
    label = (
        f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" fill="{INK}" '
        f"{_FONT}>{value}</text>"
        if value
        else ""
    )
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" {style}/>{label}'


def hbars(
    chart_id: str,
    title: str,
    desc: str,
    points: Sequence[tuple[str, int]],
    *,
    width: int = 640,
    row: int = 26,
) -> Markup:
    """Horizontal bars, one row per label (long labels such as rule ids)."""
    label_w, pad = 150, 8
    height = max(len(points), 1) * row + 2 * pad
    top = _scale([v for _, v in points])
    plot_w = width - label_w - 48
    parts = []
    for i, (label, value) in enumerate(points):
        y = pad + i * row
        w = plot_w * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end" fill="{INK}" '
            f"{_FONT}>{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" fill="{BLUE}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + row / 2 + 4:.1f}" fill="{INK}" {_FONT}>'
            f"{value}</text>"
        )
    if not points:
        parts.append(f'<text x="{pad}" y="{pad + 14}" fill="{INK}" {_FONT}>0</text>')
    return _frame(chart_id, title, desc, "".join(parts), width=width, height=height)


def supervision_charts(figures: Figures, language: str) -> dict[str, object]:
    """The three charts of a supervision page (events per day, consents and withdrawals,
    refusals by rule) and the days as people of ``language`` write them."""
    from facegate.web import i18n

    _ = i18n.gettext_for(language)
    short = [d.strftime("%m-%d") for d in figures.days]
    return {
        "figures": figures,
        "days": [i18n.when(d.isoformat(), language, date_only=True) for d in figures.days],
        "events_chart": bars(
            "events",
            _("Ledger events per day"),
            _("Events written to the ledger on each of the last %(n)d days.", n=len(short)),
            list(zip(short, figures.events_per_day, strict=True)),
        ),
        "consents_chart": bars(
            "consents",
            _("Consents and withdrawals per day"),
            _("Solid bars: consents given; outlined bars: consents withdrawn."),
            list(zip(short, figures.consents_per_day, strict=True)),
            second=figures.withdrawals_per_day,
        ),
        "refusals_chart": hbars(
            "refusals",
            _("Refusals by rule"),
            _("How often each legal rule refused a request, most frequent first."),
            list(figures.refusals_by_rule),
        ),
    }
