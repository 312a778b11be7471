"""Figures of the encrypted verification mode (:mod:`facegate.templates.he`).

The mode compares exact embeddings under encryption, so its decisions are the raw system's
at the decision holder's threshold: its accuracy, EER and TAR@FAR are the raw embedding's,
*provided* the encrypted decisions agree with the clear ones, which is measured here on a
sample of the set's comparisons (``decision_agreement``). Also measured: the time and bytes
of one 1:1 decision, a 1:N decision (the biohash-v2 prefix shortlist over a gallery, then
the top candidates decided under encryption), what each custody attacker opens, and how
much the decision holder's view says about the margin it hides (``view_margin_spearman``:
rank correlation of what it sees, ``|z| = r·|margin|`` in the single-key mode and the
blinded ``w`` in the threshold mode, with ``|margin|``; 1 would let it rank faces by
distance, 0 tells it nothing beyond the bit).
"""

from __future__ import annotations

import contextlib
import itertools
import pickle
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
from facegate.templates.he.threshold import (
    MODULUS,
    POSITIONS,
    QUANT,
    DecisionRequest,
    KeyHolder,
    ThresholdDecisionHolder,
    ThresholdDevice,
    ThresholdSetup,
    ThresholdVerifier,
    openfhe_python,
)

__all__ = ["MODE", "THRESHOLD_MODE", "he_mode_figures", "threshold_mode_figures"]

MODE: Final = "he-ckks (biohash-v2 shortlist)"
THRESHOLD_MODE: Final = "he-bfv-threshold 2-of-3, one-bit decision (OpenFHE; biohash-v2 shortlist)"
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


@dataclass
class _Run:
    """Decisions on sampled pairs by one mode: agreement with the clear decision, the server's
    time a comparison, and the decision holder's view beside the margin it hides."""

    agree: int = 0
    times: list[float] = field(default_factory=list)
    views: list[float] = field(default_factory=list)
    decide_times: list[float] = field(default_factory=list)
    margins: list[float] = field(default_factory=list)
    cipher: dict[int, bytes] = field(default_factory=dict)
    request: bytes = b""


def _run(
    data: Comparisons,
    *,
    threshold: float,
    pairs: int,
    encrypt: Callable[[Any], bytes],
    compare: Callable[[bytes, bytes], Any],
    view: Callable[[Any], tuple[bool, float]],
) -> tuple[_Run, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    run, x = _Run(), data.embeddings
    pick = rng.choice(len(data.a), min(pairs, len(data.a)), replace=False)
    run.cipher = {int(i): encrypt(x[i]) for i in np.unique(np.r_[data.a[pick], data.b[pick]])}
    for k in pick:
        a, b = int(data.a[k]), int(data.b[k])
        start = time.perf_counter()
        request = compare(run.cipher[a], run.cipher[b])
        run.times.append(time.perf_counter() - start)
        run.request = getattr(request, "ciphertext", request)
        margin = threshold**2 - float(np.sum((x[a] - x[b]) ** 2))
        start = time.perf_counter()
        accepted, seen = view(request)  # the decision, and what the decision holder saw
        run.decide_times.append(time.perf_counter() - start)
        run.agree += accepted == (margin >= 0)
        run.views.append(abs(seen))
        run.margins.append(abs(margin))
    return run, pick


def _figures(
    run: _Run, pick: np.ndarray[Any, Any], unprotected: Unprotected, rows: int
) -> dict[str, Any]:
    one = float(np.median(run.times)) * 1e3
    enrolled = run.cipher[min(run.cipher)]
    return {
        "accuracy": unprotected.accuracy,
        "eer": unprotected.eer,
        "tar_at_far_1e3": unprotected.tar_at_far_1e3,
        "tar_at_far_1e4": unprotected.tar_at_far_1e4,
        "unprotected_accuracy": unprotected.accuracy,
        "decision_agreement": run.agree / len(pick),
        "decisions_checked": len(pick),
        "template_bytes": len(enrolled),
        "probe_bytes": len(enrolled),
        "request_bytes": len(run.request),
        "latency_1_to_1_ms": one,
        "latency_1_to_1_ms_best": float(np.min(run.times)) * 1e3,
        # after the server's comparison: the key holders' shares and their fusion
        "decision_ms": float(np.median(run.decide_times)) * 1e3,
        "latency_1_to_n_ms": 1e3 * rows / scan.search_speed(get_scheme("biohash-v2"), rows)[0]
        + TOP * one,
        "gallery_rows": rows,
        "view_margin_spearman": _spearman(np.asarray(run.views), np.asarray(run.margins)),
    }


def he_mode_figures(
    data: Comparisons,
    unprotected: Unprotected,
    curve: Sequence[OracleFigures] = (),
    *,
    pairs: int = 120,
    rows: int = 1_000_000,
) -> dict[str, Any]:
    """The mode's figures on ``data`` (``pairs`` comparisons decided under encryption)."""
    keys = HeKeys.generate()
    device = CaptureDevice(keys.encryption_context())
    server = EncryptedVerifier(keys.evaluation_context(), threshold=unprotected.reference_threshold)
    holder = DecisionHolder(keys, threshold=server.threshold)

    def view(request: bytes) -> tuple[bool, float]:  # z: its sign is the decision
        seen = holder.view(request)
        return seen >= 0.0, seen

    run, pick = _run(
        data,
        threshold=server.threshold,
        pairs=pairs,
        encrypt=device.encrypt,
        compare=server.decision_request,
        view=view,
    )
    first = min(run.cipher)
    public = _ts().context_from(keys.encryption_context())

    def crafted(rng: np.random.Generator) -> bytes:  # random values up to 2^12
        values = rng.uniform(-1, 1, 128) * 2 ** rng.uniform(0, 12)
        return bytes(_ts().ckks_vector(public, list(values)).serialize())

    return {
        "out_of_range_probes": _out_of_range(
            crafted, server.decision_request, holder.decide, run.cipher[first], pairs
        ),
        **_figures(run, pick, unprotected, rows),
        "attack_acceptance": _attackers(keys, run.cipher[first], data.embeddings[first]),
        "oracle_bound": oracle_bound(curve, unprotected.accuracy) if curve else None,
        "evaluation_key_bytes": len(keys.evaluation_context()),
    }


def _threshold_attackers(
    setup: ThresholdSetup, template: bytes, truth: np.ndarray[Any, Any]
) -> dict[str, float]:
    """Each custody attacker decrypts a stored ciphertext in OpenFHE with the key shares it
    stole (none in the database or key store; one holder's two; two holders' three)."""
    python = openfhe_python()
    assert python is not None
    script = Path(__file__).with_name("_openfhe_attack.py")
    out = {"db": 0.0, "db+keystore": 0.0}
    for attacker, stolen in (("db+keystore+one_share", 1), ("everything", 2)):
        shares: dict[int, bytes] = {}
        for holder in setup.shares[:stolen]:
            shares.update(holder.shares)
        run = subprocess.run(  # our own script, run by path
            [python, str(script)],
            input=pickle.dumps((setup.public.context, shares, template), protocol=4),
            capture_output=True,
            check=True,
        )
        rebuilt = pickle.loads(run.stdout)  # our own script's answer
        opened = (
            not isinstance(rebuilt, str)
            and np.linalg.norm(np.asarray(rebuilt) / QUANT - truth) <= 0.6
        )
        out[attacker] = float(opened)
    return out


def _out_of_range(
    crafted: Callable[[np.random.Generator], bytes],
    compare: Callable[[bytes, bytes], Any],
    decide: Callable[[Any], bool],
    template: bytes,
    tries: int,
) -> dict[str, int]:
    """A capture device that skips the embedding check and encrypts values out of range
    (``crafted``), whose margins wrap around the modulus: how its requests end."""
    rng, out = np.random.default_rng(11), {"tried": tries, "accepted": 0, "refused": 0}
    for _ in range(tries):
        try:
            out["accepted"] += decide(compare(crafted(rng), template))
        except InvalidInput:
            out["refused"] += 1
    return out


def _wide_integers(rng: np.random.Generator) -> list[int]:
    """128 random integers up to a scale from 2^9 to 2^39 (an embedding's are below 2^12)."""
    scale = int(2 ** rng.uniform(9, 39))
    return [int(v) for v in rng.integers(-scale, scale, 128)]


def threshold_mode_figures(
    data: Comparisons,
    unprotected: Unprotected,
    curve: Sequence[OracleFigures] = (),
    *,
    pairs: int = 120,
    rows: int = 1_000_000,
) -> dict[str, Any]:
    """The threshold mode's figures: the same pairs, decided by two of three key holders."""
    setup = ThresholdSetup.ceremony()
    device = ThresholdDevice(setup.public)
    server = ThresholdVerifier(setup.public, threshold=unprotected.reference_threshold)
    holders = [KeyHolder(setup.public, share, server=server.verify_key) for share in setup.shares]
    decider = ThresholdDecisionHolder(setup.public, threshold=server.threshold)
    turn = itertools.count()

    def view(request: DecisionRequest) -> tuple[bool, float]:  # each pair of holders in turn
        k = next(turn) % 3
        seen = decider.views(request, [holders[k], holders[(k + 1) % 3]], server)[0]
        return server.conclude(request.ticket, 0, seen.found_zero), float(seen.blinded)

    run, pick = _run(
        data,
        threshold=server.threshold,
        pairs=pairs,
        encrypt=device.encrypt,
        compare=server.decision_request,
        view=view,
    )
    first = min(run.cipher)

    def decide(request: DecisionRequest) -> bool:
        return decider.decide(request, holders[:2], server)

    return {
        "out_of_range_probes": _out_of_range(
            lambda rng: device._party.call("encrypt", values=_wide_integers(rng)),
            server.decision_request,
            decide,
            run.cipher[first],
            pairs,
        ),
        **_figures(run, pick, unprotected, rows),
        "attack_acceptance": _threshold_attackers(setup, run.cipher[first], data.embeddings[first]),
        "oracle_bound": oracle_bound(curve, unprotected.accuracy) if curve else None,
        "block": _block(
            data.embeddings,
            run.cipher,
            server,
            lambda r: decider.decide_all(r, holders[:2], server),
        ),
        "evaluation_key_bytes": len(setup.public.eval_mult) + len(setup.public.eval_sum),
        # the one-bit comparison: the decision holder's encrypted bits of w, the server's
        # answers to two comparisons (compare.py), each a pair of compressed points
        "comparison_bytes": 3 * MODULUS.bit_length() * 2 * _point_bytes(),
    }


def _point_bytes() -> int:
    from facegate.templates.he.compare import POINT  # coincurve: the he extra

    return POINT


def _block(
    x: np.ndarray[Any, Any],
    cipher: dict[int, bytes],
    server: ThresholdVerifier,
    decide_all: Callable[[DecisionRequest], dict[int, bool]],
) -> dict[str, Any]:
    """A gallery block: up to 128 stored templates packed in one ciphertext, one probe met
    with all of them in one comparison (the per-match cost that Boddeti's anchor states),
    then every position decided, each by its own one-bit comparison."""
    ids = sorted(cipher)[:POSITIONS]
    start = time.perf_counter()
    block = None
    for position, i in enumerate(ids):
        block = server.pack(block, cipher[i], position)
    pack_s = time.perf_counter() - start
    assert block is not None
    probe = ids[0]
    start = time.perf_counter()
    request = server.decision_request(cipher[probe], block, range(len(ids)))
    compare_s = time.perf_counter() - start
    start = time.perf_counter()
    decided = decide_all(request)
    decide_s = time.perf_counter() - start
    threshold = server.threshold
    clear = {p: float(np.sum((x[probe] - x[i]) ** 2)) <= threshold**2 for p, i in enumerate(ids)}
    return {
        "templates": len(ids),
        "pack_ms_per_template": 1e3 * pack_s / len(ids),
        "block_bytes": len(block),
        "bytes_per_template": len(block) / len(ids),
        "compare_ms": 1e3 * compare_s,
        "per_match_ms": 1e3 * compare_s / len(ids),
        # every template of a 1M gallery met under encryption, block after block (HERS's
        # anchor: 100M in 500 s); facegate's 1:N shortlists on the binary templates instead
        "exhaustive_1m_s": 1e6 * compare_s / len(ids),
        "decide_ms_per_position": 1e3 * decide_s / len(ids),
        "decisions_equal_clear": sum(decided[p] == clear[p] for p in clear) / len(ids),
        "accepted": sum(decided.values()),
    }
