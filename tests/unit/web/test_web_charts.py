"""Server-side SVG charts: values shown as text, labels escaped, axes with round steps."""

from __future__ import annotations

import re

import pytest

from facegate.web import charts


def test_bars_carry_their_values_and_escape_labels() -> None:
    svg = charts.bars("c1", "Events <b>", "desc & more", [("<script>", 3), ("12-06", 5)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Events &lt;b&gt;" in svg and "desc &amp; more" in svg
    assert 'aria-labelledby="c1-t c1-d"' in svg and 'role="img"' in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights[1] > heights[0] > 0  # 5 is drawn taller than 3
    assert heights[1] / heights[0] == pytest.approx(5 / 3, rel=0.01)
    assert ">5</text>" in svg and ">3</text>" in svg


def test_paired_bars_need_one_second_value_per_label() -> None:
    svg = charts.bars("c2", "t", "d", [("a", 1), ("b", 0)], second=[2, 0])
    assert svg.count("<rect") == 4
    assert 'stroke="#9c4310"' in svg  # the second series is outlined, not only recoloured
    with pytest.raises(ValueError):
        charts.bars("c3", "t", "d", [("a", 1)], second=[1, 2])


def test_horizontal_bars_for_rule_ids() -> None:
    svg = charts.hbars("r", "Refusals", "d", [("CN-FR-4", 7), ("EU-AI-5", 2)])
    assert "CN-FR-4" in svg and ">7</text>" in svg
    empty = charts.hbars("r", "Refusals", "d", [])
    assert "<rect" not in empty


@pytest.mark.parametrize(
    ("values", "top"), [([0], 4), ([5], 8), ([4], 4), ([9], 20), ([101], 200), ([3, 17], 20)]
)
def test_axis_top_is_four_round_steps(values: list[int], top: int) -> None:
    assert charts._scale(values) == top
