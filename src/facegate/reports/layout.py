"""The page layout of every report: one Jinja2 template and its print stylesheet.

Kept as Python strings, so they ship inside the package with no data-file configuration.
The page loads nothing from outside (no link, image or web font): what is rendered is
exactly what is hashed and recorded.
"""

from __future__ import annotations

#: families tried in order; the first installed one with Chinese glyphs sets CJK text
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)


def style(*, footer: str, families: tuple[str, ...]) -> str:
    """The stylesheet, with a running footer and the font families to use."""
    fonts = ", ".join([*(css_string(f) for f in families), "sans-serif"])
    return _STYLE.replace("FOOTER", css_string(footer)).replace("FONTS", fonts)


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot end the string or the style element."""
    out = "".join(f"\\{ord(ch):x} " if ch in "\\\"'<>&\n\r" else ch for ch in text)
    return f'"{out}"'


_STYLE = """
@page {
  size: A4;
  margin: 18mm 16mm 20mm 16mm;
  @bottom-left { content: FOOTER; font-size: 7.5pt; color: #666; }
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 7.5pt; color: #666; }
}
html { font-family: FONTS; font-size: 9.5pt; line-height: 1.4; color: #111; }
h1 { font-size: 15pt; margin: 0 0 2pt 0; }
h1 .zh { display: block; font-size: 12pt; font-weight: normal; color: #333; }
.meta { color: #444; font-size: 8.5pt; margin-bottom: 10pt; }
h2 { font-size: 11.5pt; margin: 14pt 0 4pt 0; border-bottom: 0.6pt solid #999;
     break-after: avoid; }
h2 .zh { font-weight: normal; color: #444; margin-left: 6pt; font-size: 10pt; }
.rules { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; color: #555; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { text-align: left; vertical-align: top; padding: 2.5pt 4pt;
         border-bottom: 0.4pt solid #ccc; overflow-wrap: anywhere; }
table.items th { width: 32%; font-weight: 600; }
table.grid td:first-child { white-space: nowrap; }
tr { break-inside: avoid; }
.todo { background: #fff3bf; font-style: italic; }
.intro { margin: 2pt 0 4pt 0; }
.footnote { margin-top: 14pt; font-size: 8pt; color: #555; }
pre { white-space: pre-wrap; font-size: 7.5pt; margin: 0; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<title>{{ report.title }} — {{ report.subject }}</title>
<style>{{ style | safe }}</style>
</head>
<body>
<h1>{{ report.title }}<span class="zh">{{ report.title_zh }}</span></h1>
<div class="meta">
  {{ report.subject }} · generated {{ report.generated_at.isoformat(timespec="seconds") }}
  · <span class="rules">{{ report.rules | join(" ") }}</span>
  · content sha256 <span class="rules">{{ digest }}</span>
</div>
{% for section in report.sections %}
<section>
  <h2>{{ section.title }}<span class="zh">{{ section.title_zh }}</span>
    {% if section.rules %}<span class="rules">[{{ section.rules | join(", ") }}]</span>{% endif %}
  </h2>
  {% if section.intro %}<p class="intro">{{ section.intro }}</p>{% endif %}
  {% if section.items %}
  <table class="items">
    {% for it in section.items %}
    <tr>
      <th>{{ it.label }}
        {%- if it.rules %} <span class="rules">[{{ it.rules | join(", ") }}]</span>{% endif -%}
      </th>
      <td{% if it.todo %} class="todo"{% endif %}>
        {%- if "\\n" in it.value %}<pre>{{ it.value }}</pre>{% else %}{{ it.value }}{% endif -%}
      </td>
    </tr>
    {% endfor %}
  </table>
  {% endif %}
  {% if section.table %}
  <table class="grid">
    <tr>{% for col in section.table.columns %}<th>{{ col }}</th>{% endfor %}</tr>
    {% for row in section.table.rows %}
    <tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
    {% endfor %}
  </table>
  {% endif %}
</section>
{% endfor %}
{% if report.footnote %}<p class="footnote">{{ report.footnote }}</p>{% endif %}
</body>
</html>
"""
