"""APCER, BPCER and ACER on a tiny hand-made case, and the edge cases of the definitions."""

from __future__ import annotations

import pytest

from facegate.liveness.metrics import pad_metrics


def test_hand_made_case() -> None:
    # 5 bona fide: 1 refused, 1 not processed -> BPCER 1/4
    # print: 4 attacks, 1 accepted -> 1/4; replay: 2 attacks, 1 accepted, 1 no face -> 1/1
    m = pad_metrics(
        [True, True, False, True, None],
        {"print": [False, True, False, False], "replay": [True, None]},
        threshold=0.5,
    )
    assert m.bpcer == pytest.approx(0.25)
    assert m.species["print"].apcer == pytest.approx(0.25)
    assert m.species["replay"].apcer == pytest.approx(1.0)
    assert m.apcer == pytest.approx(1.0)  # the worst species, not the pooled 2/5
    assert m.acer == pytest.approx((1.0 + 0.25) / 2)
    assert (m.bona_fide, m.bona_fide_refused, m.bona_fide_not_processed) == (4, 1, 1)
    assert m.species["replay"].not_processed == 1
    data = m.as_json()
    assert data["attack_species"]["print"] == {
        "presented": 4, "accepted": 1, "not_processed": 0, "apcer": 0.25
    }  # fmt: skip
    assert data["bpcer"] == pytest.approx(0.25) and data["threshold"] == 0.5


def test_perfect_detector() -> None:
    m = pad_metrics([True] * 3, {"attack": [False] * 2}, threshold=0.5)
    assert (m.apcer, m.bpcer, m.acer) == (0.0, 0.0, 0.0)


def test_rates_over_nothing_are_undefined_not_zero() -> None:
    m = pad_metrics([None], {"print": [None]}, threshold=0.5)
    assert m.bpcer is None and m.apcer is None and m.acer is None
    assert pad_metrics([True], {}, threshold=0.5).acer is None
