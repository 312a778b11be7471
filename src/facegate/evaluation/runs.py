"""From a folder of photos to a report: embed (cached), compare, evaluate."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from facegate.config import Settings, load_settings
from facegate.errors import InvalidInput
from facegate.evaluation import datasets
from facegate.evaluation.embeddings import EmbeddingCache, default_cache_path
from facegate.evaluation.report import Options, Report, evaluate
from facegate.recognition import FaceEngine
from facegate.templates.scheme import (
    DEFAULT_SCHEME,
    TemplateScheme,
    available_schemes,
    get_scheme,
)

__all__ = [
    "default_names",
    "default_schemes",
    "embedder",
    "folder_report",
    "lfw_report",
    "with_he",
]

Progress = Callable[[str], None]


def default_names() -> list[str]:
    """Every registered scheme at its default parameters, and the default scheme."""
    names = list(available_schemes())
    return names if DEFAULT_SCHEME in names else [DEFAULT_SCHEME, *names]


def default_schemes() -> list[TemplateScheme]:
    return [get_scheme(name) for name in default_names()]


def embedder(
    settings: Settings | None = None, cache: Path | None = None, *, no_cache: bool = False
) -> EmbeddingCache:
    """An embedding cache over the service's face engine (ONNX by default)."""

    def make() -> FaceEngine:
        from facegate.core import engine_for

        return engine_for(settings or load_settings())

    return EmbeddingCache(make, None if no_cache else (cache or default_cache_path()))


def folder_report(
    root: Path,
    *,
    schemes: Sequence[TemplateScheme] | None = None,
    options: Options | None = None,
    cache: EmbeddingCache,
    progress: Progress | None = None,
    he: bool = False,
) -> Report:
    """The report for a ``root/<person>/<photo>`` folder set (``he``: and the encrypted
    verification mode's figures, :mod:`facegate.evaluation.he_mode`)."""
    photos = datasets.folder_photos(root)
    embedded = cache.embed(photos.paths, progress=_ticker(progress))
    cache.save()
    data = datasets.folder_comparisons(Path(root).name, photos, embedded)
    return with_he(evaluate(data, schemes or default_schemes(), options, progress), data, he)


def lfw_report(
    images: Path,
    pairs_file: Path,
    *,
    schemes: Sequence[TemplateScheme] | None = None,
    options: Options | None = None,
    cache: EmbeddingCache,
    progress: Progress | None = None,
    he: bool = False,
) -> Report:
    """The report for an LFW-format set: ``images/<name>/<name>_NNNN.jpg`` and pairs.txt."""
    pairs = datasets.read_lfw_pairs(pairs_file, images)
    photos = datasets.lfw_photos(pairs)
    embedded = cache.embed(photos.paths, progress=_ticker(progress))
    cache.save()
    data = datasets.lfw_comparisons(f"lfw:{Path(pairs_file).name}", pairs, embedded)
    return with_he(evaluate(data, schemes or default_schemes(), options, progress), data, he)


def with_he(report: Report, data: datasets.Comparisons, he: bool) -> Report:
    """``report`` with the encrypted mode's figures added when ``he`` (tens of seconds)."""
    if not he:
        return report
    from facegate.evaluation import he_mode
    from facegate.templates.he import he_available
    from facegate.templates.he.threshold import threshold_available

    if not he_available():
        raise InvalidInput("--he needs TenSEAL", advice="pip install 'facegate[he]'")
    seen = (data, report.unprotected, report.curve)
    modes = {**report.modes, he_mode.MODE: he_mode.he_mode_figures(*seen)}
    if threshold_available():  # OpenFHE under its own interpreter (make install)
        modes[he_mode.THRESHOLD_MODE] = he_mode.threshold_mode_figures(*seen)
    return dataclasses.replace(report, modes=modes)


def _ticker(progress: Progress | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    say = progress

    def tick(done: int, total: int) -> None:
        if done == total or done % 256 == 0:
            say(f"embedded {done}/{total} photos")

    return tick
