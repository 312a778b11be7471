"""Figures of the encrypted verification mode (:mod:`facegate.templates.he`).

The mode compares exact embeddings under encryption, so its decisions are the raw system's
at the decision holder's threshold: its accuracy, EER and TAR@FAR are the raw embedding's,
*provided* the encrypted decisions agree with the clear ones, which is measured here on a
sample of the set's comparisons (``decision_agreement``). Also measured: the time and bytes
of one 1:1 decision, a 1:N decision (the biohash-v2 prefix shortlist over a gallery, then
the top candidates decided under encryption), what each custody attacker opens, and how
much the decision holder's view (``z = r·margin``) says about the margin it hides
(``view_margin_spearman``: rank correlation of ``|z|`` with ``|margin|``; 1 would let it
rank faces by distance, 0 tells it nothing beyond the bit).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from facegate.custody import combine_key, split_key
from facegate.errors import InvalidInput, InvalidTemplate
from facegate.evaluation import scan
from facegate.evaluation.datasets import Comparisons
from facegate.evaluation.oracle import OracleFigures, oracle_bound
from facegate.evaluation.report import Unprotected
from facegate.templates import get_scheme
from facegate.templates.he import CaptureDevice, DecisionHolder, EncryptedVerifier, HeKeys
from facegate.templates.he.parties import HE_DECISION_KEY, _ts

__all__ = ["MODE", "he_mode_figures"]

MODE: Final = "he-ckks (biohash-v2 shortlist)"
#: candidates of the binary shortlist decided under encryption in a 1:N search
TOP: Final = 3


def _spearman(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _attackers(keys: HeKeys, template: bytes, truth: np.ndarray[Any, Any]) -> dict[str, float]:
    """Run each attacker against one stored ciphertext: only a rebuilt decision key opens it."""
    kek = bytes(np.random.default_rng(7).integers(0, 256, 32, dtype=np.uint8))
    sealed = keys.seal(kek)
    shares = split_key(kek, purpose=HE_DECISION_KEY)
    out = {}
    for attacker, parts in (
        ("db", []),
        ("db+keystore", []),
        ("db+keystore+one_share", shares[:1]),
        ("everything", shares[:2]),
    ):
        opened = None
        with contextlib.suppress(InvalidInput, InvalidTemplate):
            opened = HeKeys.open(sealed, combine_key(parts, purpose=HE_DECISION_KEY))
        if opened is None:
            out[attacker] = 0.0
            continue
        rebuilt = np.asarray(_ts().ckks_vector_from(opened.context, template).decrypt())
        out[attacker] = float(np.linalg.norm(rebuilt - truth) <= 0.6)
    return out


def he_mode_figures(
    data: Comparisons,
    unprotected: Unprotected,
    curve: Sequence[OracleFigures] = (),
    *,
    pairs: int = 120,
    rows: int = 1_000_000,
) -> dict[str, Any]:
    """The mode's figures on ``data`` (``pairs`` comparisons decided under encryption)."""
    rng = np.random.default_rng(0)
    keys = HeKeys.generate()
    device = CaptureDevice(keys.encryption_context())
    server = EncryptedVerifier(keys.evaluation_context(), threshold=unprotected.reference_threshold)
    holder = DecisionHolder(keys)
    x = data.embeddings
    pick = rng.choice(len(data.a), min(pairs, len(data.a)), replace=False)
    cipher = {int(i): device.encrypt(x[i]) for i in np.unique(np.r_[data.a[pick], data.b[pick]])}
    agree, times, views, margins = 0, [], [], []
    for k in pick:
        a, b = int(data.a[k]), int(data.b[k])
        start = time.perf_counter()
        request = server.decision_request(cipher[a], cipher[b])
        times.append(time.perf_counter() - start)
        margin = unprotected.reference_threshold**2 - float(np.sum((x[a] - x[b]) ** 2))
        agree += holder.decide(request) == (margin >= 0)
        views.append(abs(holder.view(request)))  # the decision holder's whole view
        margins.append(abs(margin))
    enrolled = cipher[int(data.a[pick[0]])]
    shortlist_rows, shortlist_speed = rows, scan.search_speed(get_scheme("biohash-v2"), rows)[0]
    one = float(np.median(times)) * 1e3
    return {
        "accuracy": unprotected.accuracy,
        "eer": unprotected.eer,
        "tar_at_far_1e3": unprotected.tar_at_far_1e3,
        "tar_at_far_1e4": unprotected.tar_at_far_1e4,
        "unprotected_accuracy": unprotected.accuracy,
        "decision_agreement": agree / len(pick),
        "decisions_checked": len(pick),
        "attack_acceptance": _attackers(keys, enrolled, x[int(data.a[pick[0]])]),
        "oracle_bound": oracle_bound(curve, unprotected.accuracy) if curve else None,
        "template_bytes": len(enrolled),
        "probe_bytes": len(enrolled),
        "request_bytes": len(request),
        "evaluation_key_bytes": len(keys.evaluation_context()),
        "latency_1_to_1_ms": one,
        "latency_1_to_1_ms_best": float(np.min(times)) * 1e3,
        "latency_1_to_n_ms": 1e3 * shortlist_rows / shortlist_speed + TOP * one,
        "gallery_rows": shortlist_rows,
        "view_margin_spearman": _spearman(np.asarray(views), np.asarray(margins)),
    }
