"""Template protection schemes, by name.

A scheme turns a face embedding into a protected template under a secret seed and compares
templates. The name is stored with every deployment and template, so what a name means never
changes; an improvement gets a new name.

    >>> scheme = get_scheme("biohash-v1")
    >>> seed = keys.derive(deployment_key, label=keys.TEMPLATE_TRANSFORM)
    >>> template = scheme.protect(embedding, seed)
    >>> scheme.similarity(template, probe) >= scheme.default_threshold
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from facegate.templates.hazmat import biohash, biohash2, hamming, phasefold

__all__ = [
    "DEFAULT_SCHEME",
    "BioHashScheme",
    "BioHashV2Scheme",
    "PhaseFoldScheme",
    "TemplateScheme",
    "available_schemes",
    "get_scheme",
]

U8 = npt.NDArray[np.uint8]


@runtime_checkable
class TemplateScheme(Protocol):
    """What facegate needs from a protection scheme."""

    @property
    def name(self) -> str:
        """Stored with each template; ``get_scheme(name)`` gives this scheme back."""
        ...

    @property
    def params(self) -> Mapping[str, int | float | str]:
        """The parameters that, with the name, fix the transform."""
        ...

    @property
    def template_bytes(self) -> int:
        """Every template of this scheme has exactly this length."""
        ...

    @property
    def default_threshold(self) -> float:
        """Similarity at or above which two templates are called the same person."""
        ...

    @property
    def search_prefix_bytes(self) -> int | None:
        """If the first this-many bytes of a template are themselves a complete, shorter
        template (its Hamming distance ranks candidates almost as well), a 1:N search may
        shortlist on them first; ``None`` when no prefix is meaningful."""
        ...

    def protect(self, embedding: npt.ArrayLike, key: bytes) -> bytes:
        """The template of ``embedding`` under the secret transform seed ``key``."""
        ...

    def protect_many(self, embeddings: npt.ArrayLike, key: bytes) -> U8:
        """Templates of n embeddings as an n x template_bytes gallery matrix."""
        ...

    def similarity(self, a: bytes, b: bytes) -> float:
        """In [0, 1]; higher is more alike."""
        ...

    def similarity_many(self, probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
        """``similarity(probe, row)`` for each row of an n x template_bytes uint8 matrix."""
        ...


#: biohash-v1 at 1024 bits calls similarity >= 0.80 the same person. Measured by
#: ``hazmat/_calibrate.py`` over 32 random keys on the 300 in_the_wild/master.csv pairs:
#: 99.76% mean, 99.33% for the worst key (raw dlib at euclidean 0.6: 99.67%); the best
#: mean of the thresholds tried. It is also where raw distance 0.6 lands (similarity 0.795),
#: rounded to the stricter side.
_BIOHASH_THRESHOLD: Final = 0.80


@dataclass(frozen=True, slots=True)
class BioHashScheme:
    """biohash-v1 (see :mod:`facegate.templates.hazmat.biohash`)."""

    bits: int = biohash.DEFAULT_BITS

    def __post_init__(self) -> None:
        biohash.check_bits(self.bits)

    @property
    def name(self) -> str:
        # A non-default length is part of the name, so a stored name always says which
        # transform made the template.
        return "biohash-v1" if self.bits == biohash.DEFAULT_BITS else f"biohash-v1:{self.bits}"

    @property
    def params(self) -> Mapping[str, int | float | str]:
        return {"bits": self.bits, "levels": biohash.LEVELS, "span": biohash.SPAN}

    @property
    def template_bytes(self) -> int:
        return self.bits // 8

    @property
    def default_threshold(self) -> float:
        return _BIOHASH_THRESHOLD

    @property
    def search_prefix_bytes(self) -> int | None:
        # the first 1024 bits are one whole keyed rotation: a biohash-v1 template by itself
        return biohash.DEFAULT_BITS // 8 if self.bits > biohash.DEFAULT_BITS else None

    def protect(self, embedding: npt.ArrayLike, key: bytes) -> bytes:
        return biohash.protect(embedding, key, bits=self.bits)

    def protect_many(self, embeddings: npt.ArrayLike, key: bytes) -> U8:
        """Templates of n embeddings as a gallery matrix (bulk enrolment, calibration)."""
        return biohash.transform(key, bits=self.bits).protect_many(embeddings)

    def similarity(self, a: bytes, b: bytes) -> float:
        _check(self, a)
        _check(self, b)
        return hamming.similarity(a, b)

    def similarity_many(self, probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
        _check(self, probe)
        return hamming.similarity_many(probe, gallery)


#: biohash-v2 calls similarity >= 0.857 the same person: where raw distance 0.6 lands on
#: the tuning photos (0.856 to 0.859 over 4 keys on in_the_wild and orl, by a linear fit of
#: similarity against distance for pairs 0.5 to 0.7 apart), rounded to the stricter side.
_BIOHASH_V2_THRESHOLD: Final = 0.857


@dataclass(frozen=True, slots=True)
class BioHashV2Scheme:
    """biohash-v2 (see :mod:`facegate.templates.hazmat.biohash2`): 16 rotations, span 3,
    2048-byte templates whose first 128 bytes shortlist a 1:N search."""

    @property
    def name(self) -> str:
        return "biohash-v2"

    @property
    def params(self) -> Mapping[str, int | float | str]:
        return {
            "bits": biohash2.BITS,
            "levels": biohash2.LEVELS,
            "rotations": biohash2.ROTATIONS,
            "span": biohash2.SPAN,
        }

    @property
    def template_bytes(self) -> int:
        return biohash2.BITS // 8

    @property
    def default_threshold(self) -> float:
        return _BIOHASH_V2_THRESHOLD

    @property
    def search_prefix_bytes(self) -> int | None:
        return biohash2.PREFIX_BYTES

    def protect(self, embedding: npt.ArrayLike, key: bytes) -> bytes:
        return biohash2.transform(key).protect(embedding)

    def protect_many(self, embeddings: npt.ArrayLike, key: bytes) -> U8:
        return biohash2.transform(key).protect_many(embeddings)

    def similarity(self, a: bytes, b: bytes) -> float:
        _check(self, a)
        _check(self, b)
        return hamming.similarity(a, b)

    def similarity_many(self, probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
        _check(self, probe)
        return hamming.similarity_many(probe, gallery)


#: phasefold-v1's threshold lies this many standard deviations of an unrelated pair's
#: similarity above 0.5; see PhaseFoldScheme.default_threshold
_PHASEFOLD_SIGMAS: Final = 4.5


@dataclass(frozen=True, slots=True)
class PhaseFoldScheme:
    """phasefold-v1 (see :mod:`facegate.templates.hazmat.phasefold`): for 1:1 verification.

    ``bandwidth`` is fixed by the name (``phasefold-v1`` means the default); other bandwidths
    exist for measurement only and are never stored.
    """

    bits: int = phasefold.DEFAULT_BITS
    bandwidth: float = phasefold.DEFAULT_BANDWIDTH

    def __post_init__(self) -> None:
        phasefold.check_bits(self.bits)
        phasefold.check_bandwidth(self.bandwidth)

    @property
    def name(self) -> str:
        base = "phasefold-v1"
        if self.bandwidth != phasefold.DEFAULT_BANDWIDTH:
            # not a registered name: get_scheme refuses it, so such a template is never stored
            base = f"phasefold-v1@h={self.bandwidth:g}"
        return base if self.bits == phasefold.DEFAULT_BITS else f"{base}:{self.bits}"

    @property
    def params(self) -> Mapping[str, int | float | str]:
        return {"bits": self.bits, "levels": phasefold.LEVELS, "bandwidth": self.bandwidth}

    @property
    def template_bytes(self) -> int:
        return self.bits // 8

    @property
    def default_threshold(self) -> float:
        """Set by the statistics of unrelated templates, whatever the faces: each feature is
        then a fair four-sided die (distance 0, 1, 1, 2 quarter-turns), so an unrelated
        pair's similarity is 0.5 with standard deviation ``sqrt(0.125 / features)``; the
        threshold is 4.5 of those above 0.5 (a false-match rate of about 3e-6 for unrelated
        faces: 0.5176 at 16384 bits, 0.5249 at 8192). Measured rates on real photos:
        ``facegate bench``."""
        sd = math.sqrt(0.125 / (self.bits // 2))
        return round(0.5 + _PHASEFOLD_SIGMAS * sd, 4)

    @property
    def search_prefix_bytes(self) -> int | None:
        return None  # for 1:1; a 1:N search scans whole templates

    def protect(self, embedding: npt.ArrayLike, key: bytes) -> bytes:
        return phasefold.protect(embedding, key, bits=self.bits, bandwidth=self.bandwidth)

    def protect_many(self, embeddings: npt.ArrayLike, key: bytes) -> U8:
        """Templates of n embeddings as a gallery matrix (bulk enrolment, calibration)."""
        return phasefold.transform(key, bits=self.bits, bandwidth=self.bandwidth).protect_many(
            embeddings
        )

    def similarity(self, a: bytes, b: bytes) -> float:
        _check(self, a)
        _check(self, b)
        return hamming.similarity(a, b)

    def similarity_many(self, probe: bytes | U8, gallery: U8) -> npt.NDArray[np.float64]:
        _check(self, probe)
        return hamming.similarity_many(probe, gallery)


def _check(scheme: TemplateScheme, template: bytes | U8) -> None:
    n = template.size if isinstance(template, np.ndarray) else len(template)
    if n != scheme.template_bytes:
        raise ValueError(f"{scheme.name} templates are {scheme.template_bytes} bytes, got {n}")


_FACTORIES: Final[Mapping[str, Callable[..., TemplateScheme]]] = {
    "biohash-v1": BioHashScheme,
    "biohash-v2": BioHashV2Scheme,
    "phasefold-v1": PhaseFoldScheme,
}
#: schemes defined at one length only: a ``:bits`` suffix is refused
_ONE_LENGTH: Final = frozenset({"biohash-v2"})
#: the default for new deployments, chosen by the measured figures
#: (docs/template-protection.md, ``facegate.evaluation.report.recommend``): the only scheme
#: within 0.2 accuracy points of the raw embedding on every shared set. No scheme keeps an
#: attacker who holds the keys out, so irreversibility did not decide between them. 1:N
#: searches shortlist on its first 1024 bits (``search_prefix_bytes``), so it searches
#: about as fast as ``biohash-v1``.
DEFAULT_SCHEME: Final = "biohash-v1:4096"
_NAME: Final = re.compile(r"(?P<base>[a-z0-9-]+)(?::(?P<bits>[1-9][0-9]*))?")


def available_schemes() -> tuple[str, ...]:
    """The names :func:`get_scheme` knows, without length suffixes."""
    return tuple(sorted(_FACTORIES))


@functools.cache
def _build(base: str, bits: int | None) -> TemplateScheme:
    factory = _FACTORIES[base]
    if bits is None:
        return factory()
    if base in _ONE_LENGTH:
        raise ValueError(f"{base} has one length ({factory().template_bytes * 8} bits)")
    return factory(bits=bits)


def get_scheme(name: str, *, bits: int | None = None) -> TemplateScheme:
    """The scheme called ``name`` (as stored), e.g. ``"biohash-v1"``, ``"biohash-v1:2048"`` or
    ``"phasefold-v1"``.

    ``bits`` picks a length for a new deployment; the returned scheme's ``name`` then carries
    it. Cheap to call per request: schemes are built once.
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None or match["base"] not in _FACTORIES:
        raise ValueError(
            f"unknown template scheme {name!r}; known: {', '.join(available_schemes())}"
        )
    named = int(match["bits"]) if match["bits"] else None
    if named is not None and bits is not None and named != bits:
        raise ValueError(f"scheme {name!r} names {named} bits, but bits={bits} was asked for")
    scheme = _build(match["base"], bits if bits is not None else named)
    if named is not None and scheme.name != name:
        # e.g. "biohash-v1:1024" is spelled "biohash-v1"; one spelling per scheme, so that
        # stored names compare equal
        raise ValueError(f"scheme {name!r} is spelled {scheme.name!r}")
    return scheme
