from __future__ import annotations

import numpy as np
import pytest

from facegate.gallery import Gallery


def _sim(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    return 1.0 - np.unpackbits(probe ^ gallery, axis=1).mean(axis=1)


def test_add_search_remove_without_rebuild() -> None:
    rng = np.random.default_rng(1)
    g = Gallery(16, _sim)
    templates = {f"t{i}": rng.integers(0, 256, 16, dtype=np.uint8).tobytes() for i in range(40)}
    for i, (tid, tpl) in enumerate(templates.items()):
        g.add(tid, f"s{i % 20}", tpl)
    assert len(g) == 40
    hit = g.search(templates["t7"], top=1)[0]
    assert (hit.template_id, hit.subject_id, hit.score) == ("t7", "s7", 1.0)
    assert len({h.subject_id for h in g.search(templates["t7"], top=5)}) == 5
    assert g.remove_subject("s7") == 2
    assert len(g) == 38
    assert all(h.subject_id != "s7" for h in g.search(templates["t7"], top=38))
    # Every remaining template is still found exactly where it was.
    for tid, tpl in templates.items():
        if tid not in ("t7", "t27"):
            assert g.search(tpl, top=1)[0].template_id == tid


def test_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="bytes"):
        Gallery(16, _sim).add("t", "s", b"short")
