"""Re-protection: a deployment's templates made anew under a key made for one export.

Hazardous material (as :mod:`facegate.templates.hazmat`): these functions hold the
deployment's transform seed and, for the length of one call, an estimate of each embedding.

facegate never stores an embedding, so an export starts from the stored templates. The
biohash schemes are a thermometer code per keyed direction XOR a keyed mask; with the
deployment's seed, each direction's level gives an interval of its projection, and rotating
the interval middles back gives the embedding up to the quantisation (what
:mod:`facegate.evaluation.attacks` calls the stolen-key inversion: the operator holds the
key, so this gives it nothing it did not have). That estimate is protected again, in memory,
under a transform seed derived from a fresh export key. So:

* the recipient's templates and the operator's (or another recipient's) are made under
  independent keys: as unlinkable as two deployments' (similarity ~0.5, measured in
  ``bench/leak_drill.py``); nothing of the deployment key leaves;
* matching within the export works with probes the recipient makes from photos under the
  export's seed, at the deployment's accuracy (the quantisation error, ~0.05 in euclidean
  distance at 4096 bits, is a tenth of the match distance);
* every byte of a biohash template is one direction's thermometer code (one of 9 values:
  ``0b0...01...1``) XOR the mask's byte. Under the export's own mask every byte of its
  templates unmasks to a valid code; under any other (independent, uniform) mask a byte does
  so with probability exactly 9/256. One template of 512 bytes therefore names its export
  beyond doubt (:func:`valid_bytes`, :mod:`facegate.transfers.trace`).

phasefold-v1 has no such inversion; its templates cannot be re-protected, and the door
refuses to let them leave (ISO-24745).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import biohash, biohash2, keys
from facegate.templates.hazmat._mean import MEAN as MEAN_V1
from facegate.templates.hazmat._mean_v2 import MEAN as MEAN_V2
from facegate.templates.scheme import BioHashScheme, BioHashV2Scheme, TemplateScheme

__all__ = [
    "VALID_CODES",
    "ExportKeys",
    "mask_of",
    "rebuild",
    "reprotect",
    "supports",
    "transform_of",
    "valid_bytes",
]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]

#: the 9 thermometer codes of one direction (LEVELS = 8 bits, little-endian bit order)
VALID_CODES: Final = np.array([(1 << k) - 1 for k in range(9)], dtype=np.uint8)
_IS_VALID: Final = np.isin(np.arange(256), VALID_CODES)
#: labels of the keys derived from one export key
_TRANSFORM: Final = "transfer-transform"
_IDS: Final = "transfer-ids"
_CANARIES: Final = "transfer-canaries"

Transform = biohash.Transform | biohash2.Transform


@dataclass(frozen=True, slots=True, eq=False)
class ExportKeys:
    """What one export key (32 random bytes, stored wrapped) is split into: the transform seed
    the recipient receives, and two the operator keeps (row ids, canaries)."""

    transform_seed: bytes
    id_key: bytes
    canary_seed: bytes

    @classmethod
    def of(cls, export_key: bytes) -> ExportKeys:
        return cls(
            transform_seed=keys.derive(export_key, label=_TRANSFORM),
            id_key=keys.derive(export_key, label=_IDS),
            canary_seed=keys.derive(export_key, label=_CANARIES),
        )


def supports(scheme: TemplateScheme) -> bool:
    """Whether templates of ``scheme`` can be re-protected (the biohash family)."""
    return isinstance(scheme, BioHashScheme | BioHashV2Scheme)


def transform_of(scheme: TemplateScheme, seed: bytes) -> Transform:
    """The keyed transform itself (to keep, rather than rebuild, for repeated probes)."""
    return _transform(scheme, seed)[0]


def _transform(scheme: TemplateScheme, seed: bytes) -> tuple[Transform, F64]:
    if isinstance(scheme, BioHashScheme):
        return biohash.transform(seed, bits=scheme.bits), np.asarray(MEAN_V1, dtype=np.float64)
    if isinstance(scheme, BioHashV2Scheme):
        return biohash2.transform(seed), np.asarray(MEAN_V2, dtype=np.float64)
    raise ValueError(f"templates of {scheme.name} cannot be re-protected")


def mask_of(scheme: TemplateScheme, seed: bytes) -> U8:
    """The keyed mask of ``scheme`` under ``seed`` (what :func:`valid_bytes` tests)."""
    return _transform(scheme, seed)[0].mask


def rebuild(scheme: TemplateScheme, seed: bytes, templates: U8) -> F64:
    """Embedding estimates of ``templates`` (n x template_bytes) made under ``seed``: each
    direction's level gives an interval of its projection; the middles, rotated back and
    averaged over the orthogonal blocks. Saturated levels take a middle one step outside."""
    t, mean = _transform(scheme, seed)
    raw = np.asarray(templates, dtype=np.uint8) ^ t.mask[None, :]
    above = np.unpackbits(raw, axis=1, bitorder="little").reshape(len(raw), -1, biohash.LEVELS)
    level = above.sum(axis=2)  # n x directions: how many thresholds each projection exceeds
    th = t.thresholds  # directions x LEVELS, increasing
    step = th[:, 1] - th[:, 0]
    edges = np.hstack([(th[:, 0] - step)[:, None], th, (th[:, -1] + step)[:, None]])
    rows = np.arange(th.shape[0])[None, :]
    middles = (edges[rows, level] + edges[rows, level + 1]) / 2.0
    blocks = t.rotation.shape[0] // biohash.DIM
    return np.asarray(middles @ t.rotation / blocks + mean, dtype=np.float64)


def reprotect(
    scheme: TemplateScheme, deployment_seed: bytes, templates: U8, export_seed: bytes
) -> U8:
    """``templates`` of the deployment, re-protected under ``export_seed`` (n x bytes)."""
    estimates = rebuild(scheme, deployment_seed, templates)
    try:
        return scheme.protect_many(estimates, export_seed)
    finally:
        estimates.fill(0.0)  # the estimates live only inside this call


def valid_bytes(templates: U8, mask: U8) -> npt.NDArray[np.int64]:
    """For each template (row), how many of its bytes unmask under ``mask`` to a valid
    thermometer code: all of them under its own key, ~9/256 of them under any other."""
    unmasked = np.asarray(templates, dtype=np.uint8) ^ mask[None, :]
    return np.asarray(_IS_VALID[unmasked].sum(axis=1), dtype=np.int64)
