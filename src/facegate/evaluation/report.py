"""The ISO/IEC 30136 figures of each protection scheme on one set of comparisons.

For every scheme, over several random deployment keys:

* accuracy: 10-fold accuracy (threshold chosen on the other folds), EER and TAR at FAR 1e-3
  and 1e-4 of the protected comparison, next to the raw embedding's 10-fold accuracy
  (euclidean distance);
* unlinkability: D<->sys (:func:`~facegate.evaluation.metrics.dsys`) between templates of
  the same people under two keys (mated: same person, different photos) and of different
  people under two keys (non-mated);
* renewability: the share of photos whose revoked template (key A) matches its re-issued one
  (key B, same photo) at the scheme's deployment threshold, to set beside the false-match
  rate at that threshold;
* irreversibility under a stolen key (:mod:`~facegate.evaluation.attacks`): the share of
  targets for which the attacker's rebuilt embedding is accepted by the *unprotected* system,
  beside that system's genuine acceptance. The unprotected system works at the euclidean
  distance whose false-match rate is 1e-3 on these photos (dlib's customary 0.6 when there
  are too few impostor pairs to measure that), and accepts at or below it;
* template size, and comparisons per second of a 1:N search on one core.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from facegate.evaluation import custody, metrics, scan
from facegate.evaluation.attacks import invert
from facegate.evaluation.datasets import Comparisons
from facegate.evaluation.oracle import OracleFigures, oracle_bound, oracle_curve, oracle_figures
from facegate.evaluation.render import render
from facegate.templates.hazmat._mean import MEAN
from facegate.templates.scheme import DEFAULT_SCHEME, TemplateScheme

__all__ = [
    "JSON_KEYS",
    "Options",
    "Report",
    "SchemeFigures",
    "Unprotected",
    "attack_targets",
    "evaluate",
    "recommend",
    "render",
]

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.intp]
Progress = Callable[[str], None]

#: the keys of each scheme's object in the JSON report, in order
JSON_KEYS: Final = (
    "accuracy",
    "eer",
    "tar_at_far_1e3",
    "tar_at_far_1e4",
    "unprotected_accuracy",
    "dsys",
    "renewed_match_rate",
    "stolen_key_attack_acceptance",
    "template_bytes",
    "comparisons_per_s",
    "attack_acceptance",
    "oracle_bound",
    "latency_1_to_1_ms",
    "latency_1_to_n_ms",
    "gallery_rows",
)
#: the raw distance threshold used when the false-match rate cannot be measured
DLIB_THRESHOLD: Final = 0.6
#: the false-match rate at which the unprotected reference system works
REFERENCE_FMR: Final = 1e-3
#: a protected scheme is "as accurate" as the raw embedding within this many points
ACCURACY_MARGIN: Final = 0.002
#: acceptance radii (euclidean) at which the ideal accept/reject template is measured
ORACLE_RADII: Final = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
_MAX_LINK_PAIRS: Final = 20_000
_LINK_SCORES: Final = 40_000
_MAX_LINK_KEYS: Final = 65
_DICTIONARY: Final = 2_000


@dataclass(frozen=True, slots=True)
class Options:
    """How much work to do: more keys and targets give steadier figures."""

    keys: int = 5
    attack_targets: int = 60
    speed_rows: int = 1_000_000
    seed: int = 0

    @classmethod
    def quick(cls) -> Options:
        return cls(keys=3, attack_targets=15, speed_rows=200_000)


@dataclass(frozen=True, slots=True)
class Unprotected:
    accuracy: float
    eer: float
    tar_at_far_1e3: float | None
    tar_at_far_1e4: float | None
    #: the euclidean distance at or below which the reference system accepts
    reference_threshold: float
    reference_fmr: float | None
    genuine_acceptance: float
    mean_face_acceptance: float


@dataclass(frozen=True, slots=True)
class SchemeFigures:
    name: str
    accuracy: float
    eer: float
    tar_at_far_1e3: float | None
    tar_at_far_1e4: float | None
    unprotected_accuracy: float
    dsys: float | None
    renewed_match_rate: float | None
    stolen_key_attack_acceptance: float | None
    template_bytes: int
    comparisons_per_s: float | None
    #: per attacker of :data:`facegate.evaluation.custody.ATTACKERS` (2-of-3 custody)
    attack_acceptance: dict[str, float | None] = field(default_factory=dict)
    #: the ideal accept/reject template's attack acceptance at this scheme's accuracy
    oracle_bound: float | None = None
    latency_1_to_1_ms: float | None = None
    #: one 1:N probe over ``gallery_rows`` templates, one core
    latency_1_to_n_ms: float | None = None
    gallery_rows: int | None = None
    # for people, not in the JSON object
    threshold: float = 0.0
    accuracy_at_threshold: float = 0.0
    fmr_at_threshold: float = 0.0
    fnmr_at_threshold: float = 0.0
    dsys_same_photo: float | None = None
    attack_similarity: float | None = None
    attack_methods: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in JSON_KEYS}


@dataclass(frozen=True, slots=True)
class Report:
    dataset: str
    photos: int
    no_face: int
    genuine: int
    impostor: int
    pool: int
    dropped_pairs: int
    unprotected: Unprotected
    schemes: tuple[SchemeFigures, ...]
    default: str = DEFAULT_SCHEME
    #: what the ideal accept/reject template concedes at each of ORACLE_RADII
    #: (:mod:`facegate.evaluation.oracle`): the bound on every scheme
    bound: tuple[OracleFigures, ...] = ()
    #: the same at every radius of ``oracle.CURVE_RADII`` (for "the same accuracy")
    curve: tuple[OracleFigures, ...] = ()
    #: figures of other modes (e.g. encrypted verification), by mode name, for the JSON
    modes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def recommended(self) -> str:
        return recommend(self.schemes)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "default": self.default,
            "schemes": {s.name: s.as_json() for s in self.schemes},
        }
        if self.modes:
            doc["modes"] = self.modes
        return doc


def recommend(schemes: Sequence[SchemeFigures]) -> str:
    """The rule that picks a default from figures: among the schemes within
    ACCURACY_MARGIN of the raw embedding's accuracy, the one whose stolen-key attack succeeds
    least (then the more accurate); if none is that accurate, the most accurate."""
    if not schemes:
        raise ValueError("no schemes to choose from")
    close = [s for s in schemes if s.unprotected_accuracy - s.accuracy <= ACCURACY_MARGIN]
    if close:
        return min(
            close,
            key=lambda s: (
                1.0 if s.stolen_key_attack_acceptance is None else s.stolen_key_attack_acceptance,
                -s.accuracy,
            ),
        ).name
    return max(schemes, key=lambda s: s.accuracy).name


def key_seed(k: int) -> bytes:
    """Reproducible stand-ins for deployment transform seeds."""
    return hashlib.sha256(b"facegate bench key %d" % k).digest()


def _reference(data: Comparisons) -> tuple[float, float | None]:
    pool = np.sort(
        np.linalg.norm(data.embeddings[data.pool_a] - data.embeddings[data.pool_b], axis=1)
    )
    if pool.size < round(1.0 / REFERENCE_FMR):
        return DLIB_THRESHOLD, None
    allowed = int(np.floor(REFERENCE_FMR * pool.size))
    # accept at or below a distance just short of the first impostor not allowed through
    return float(np.nextafter(pool[allowed], 0.0)), REFERENCE_FMR


def unprotected_figures(data: Comparisons) -> Unprotected:
    x = data.embeddings
    dist = np.linalg.norm(x[data.a] - x[data.b], axis=1)
    pool = np.linalg.norm(x[data.pool_a] - x[data.pool_b], axis=1)
    genuine = -dist[data.same]
    threshold, fmr = _reference(data)
    targets = attack_targets(data, len(data.people), np.random.default_rng(0))
    mean_face = np.linalg.norm(x[targets] - np.asarray(MEAN), axis=1) <= threshold
    return Unprotected(
        accuracy=metrics.kfold_accuracy(-dist, data.same, data.folds),
        eer=metrics.eer(genuine, -pool),
        tar_at_far_1e3=metrics.tar_at_far(genuine, -pool, 1e-3),
        tar_at_far_1e4=metrics.tar_at_far(genuine, -pool, 1e-4),
        reference_threshold=threshold,
        reference_fmr=fmr,
        genuine_acceptance=float(np.mean(dist[data.same] <= threshold)),
        mean_face_acceptance=float(np.mean(mean_face)),
    )


def attack_targets(data: Comparisons, count: int, rng: np.random.Generator) -> Ints:
    """One photo (the first) of up to ``count`` people, the people drawn at random."""
    firsts = np.unique(data.people, return_index=True)[1]
    if firsts.size > count:
        firsts = np.sort(rng.choice(firsts, count, replace=False))
    return np.asarray(firsts, dtype=np.intp)


def _link_pairs(data: Comparisons, rng: np.random.Generator) -> tuple[Ints, Ints, Ints, Ints]:
    """Mated (same person, different photos) and non-mated pairs for D<->sys."""
    n = len(data.people)
    ia, ib = np.nonzero(data.people[:, None] == data.people[None, :])
    mated = ia != ib
    ma, mb = ia[mated], ib[mated]
    if ma.size > _MAX_LINK_PAIRS:
        pick = rng.choice(ma.size, _MAX_LINK_PAIRS, replace=False)
        ma, mb = ma[pick], mb[pick]
    count = min(max(ma.size, 5_000), _MAX_LINK_PAIRS)
    na = rng.integers(0, n, size=3 * count)
    nb = rng.integers(0, n, size=3 * count)
    cross = data.people[na] != data.people[nb]
    return ma, mb, na[cross][:count], nb[cross][:count]


def scheme_figures(
    data: Comparisons,
    scheme: TemplateScheme,
    unprotected: Unprotected,
    options: Options,
    progress: Progress | None = None,
) -> SchemeFigures:
    say = progress or (lambda _msg: None)
    x = data.embeddings
    rng = np.random.default_rng(options.seed)
    keys = max(2, options.keys)
    accs, eers, tar3, tar4, at_thr, fmrs, fnmrs = [], [], [], [], [], [], []
    templates: list[U8] = []
    threshold = scheme.default_threshold
    say(f"{scheme.name}: protecting {len(x)} embeddings under {keys} keys")
    for k in range(keys):
        t = scheme.protect_many(x, key_seed(k))
        templates.append(t)
        scores = scan.pair_similarity(t, t, data.a, data.b)
        pool = scan.pair_similarity(t, t, data.pool_a, data.pool_b)
        genuine = scores[data.same]
        accs.append(metrics.kfold_accuracy(scores, data.same, data.folds))
        eers.append(metrics.eer(genuine, pool))
        tar3.append(metrics.tar_at_far(genuine, pool, 1e-3))
        tar4.append(metrics.tar_at_far(genuine, pool, 1e-4))
        at_thr.append(metrics.rates_at(scores, data.same, threshold).accuracy)
        fmrs.append(float(np.mean(pool >= threshold)))
        fnmrs.append(float(np.mean(genuine < threshold)))

    say(f"{scheme.name}: unlinkability and renewability")
    # Each pair of consecutive keys is one "two deployments" experiment. The histograms of
    # D<->sys are biased upwards when mated scores are few, so more key pairs are pooled
    # until there are about _LINK_SCORES of them (templates are cheap to make).
    ma, mb, na, nb = _link_pairs(data, rng)
    pairs_wanted = -(-_LINK_SCORES // max(1, ma.size))
    for k in range(len(templates), min(_MAX_LINK_KEYS, max(keys, pairs_wanted + 1))):
        templates.append(scheme.protect_many(x, key_seed(k)))
    everyone = np.arange(len(x), dtype=np.intp)
    mated, non_mated, renewed = [], [], []
    for ta, tb in itertools.pairwise(templates):
        mated.append(scan.pair_similarity(ta, tb, ma, mb))
        non_mated.append(scan.pair_similarity(ta, tb, na, nb))
        renewed.append(scan.pair_similarity(ta, tb, everyone, everyone))
    link = metrics.dsys(np.concatenate(mated), np.concatenate(non_mated)) if ma.size >= 2 else None
    link_same = metrics.dsys(np.concatenate(renewed), np.concatenate(non_mated))
    renewed_rate = float(np.mean(np.concatenate(renewed) >= threshold))
    ta = templates[0]

    targets = attack_targets(data, options.attack_targets, rng)
    say(f"{scheme.name}: stolen-key attack on {len(targets)} templates")
    accepted, sims, methods = [], [], Counter[str]()
    for target in targets:
        others = np.flatnonzero(data.people != data.people[target])
        if others.size > _DICTIONARY:
            others = np.sort(rng.choice(others, _DICTIONARY, replace=False))
        result = invert(scheme, key_seed(0), bytes(ta[target]), dictionary=x[others])
        distance = float(np.linalg.norm(result.embedding - x[target]))
        accepted.append(distance <= unprotected.reference_threshold)
        sims.append(result.similarity)
        methods[result.method] += 1

    say(f"{scheme.name}: 1:N comparison speed, 1:1 latency, custody attackers")
    speed, rows = scan.search_speed(scheme, options.speed_rows)
    everything = float(np.mean(accepted)) if accepted else None
    return SchemeFigures(
        name=scheme.name,
        accuracy=float(np.mean(accs)),
        eer=float(np.mean(eers)),
        tar_at_far_1e3=None if None in tar3 else float(np.mean([v for v in tar3 if v is not None])),
        tar_at_far_1e4=None if None in tar4 else float(np.mean([v for v in tar4 if v is not None])),
        unprotected_accuracy=unprotected.accuracy,
        dsys=link,
        renewed_match_rate=renewed_rate,
        stolen_key_attack_acceptance=everything,
        template_bytes=scheme.template_bytes,
        comparisons_per_s=speed,
        attack_acceptance=custody.attack_by_attacker(everything, seed=options.seed),
        latency_1_to_1_ms=custody.latency_1_to_1_ms(scheme, x[data.b[0]], x[data.a[0]]),
        latency_1_to_n_ms=1e3 * rows / speed,
        gallery_rows=rows,
        threshold=threshold,
        accuracy_at_threshold=float(np.mean(at_thr)),
        fmr_at_threshold=float(np.mean(fmrs)),
        fnmr_at_threshold=float(np.mean(fnmrs)),
        dsys_same_photo=link_same,
        attack_similarity=float(np.mean(sims)) if sims else None,
        attack_methods=dict(methods),
        params=dict(scheme.params),
    )


def evaluate(
    data: Comparisons,
    schemes: Sequence[TemplateScheme],
    options: Options | None = None,
    progress: Progress | None = None,
) -> Report:
    options = options or Options()
    unprotected = unprotected_figures(data)
    figures = tuple(scheme_figures(data, s, unprotected, options, progress) for s in schemes)
    targets = attack_targets(data, options.attack_targets, np.random.default_rng(options.seed))
    bound = tuple(
        oracle_figures(
            data,
            radius=radius,
            unprotected_accuracy=unprotected.accuracy,
            reference_threshold=unprotected.reference_threshold,
            targets=targets,
            seed=options.seed,
        )
        for radius in ORACLE_RADII
    )
    curve = oracle_curve(
        data,
        unprotected_accuracy=unprotected.accuracy,
        reference_threshold=unprotected.reference_threshold,
        targets=targets,
        seed=options.seed,
    )
    figures = tuple(
        dataclasses.replace(s, oracle_bound=oracle_bound(curve, s.accuracy)) for s in figures
    )
    return Report(
        dataset=data.name,
        photos=data.photos,
        no_face=data.no_face,
        genuine=data.genuine,
        impostor=data.impostor,
        pool=len(data.pool_a),
        dropped_pairs=data.dropped_pairs,
        unprotected=unprotected,
        schemes=figures,
        bound=bound,
        curve=curve,
    )
