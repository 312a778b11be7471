"""Benchmark data: labelled photos and the comparisons made between them.

Two layouts are read:

* a folder set ``DIR/<person>/<photo>`` (:func:`folder_photos`): every same-person pair is a
  genuine comparison, and as many cross-person pairs are drawn with a fixed seed, split into
  10 folds at random (stratified);
* LFW (:func:`lfw_photos`): photos at ``DIR/<name>/<name>_<NNNN>.jpg`` and the official
  ``pairs.txt``: a first line ``"<folds> <n>"`` (or just ``"<n>"`` for one fold), then per
  fold ``n`` genuine lines ``name i j`` followed by ``n`` impostor lines ``name i name2 j``.

Besides the protocol's comparisons, :class:`Comparisons` carries a larger pool of
cross-person pairs, so that false-accept rates of 1e-3 and 1e-4 can be measured where the
protocol alone has too few impostors (LFW has 3,000).
:func:`write_lfw_fixture` writes a small LFW-format set from folder sets, for tests.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from facegate.errors import InvalidInput

__all__ = [
    "IMAGE_SUFFIXES",
    "Comparisons",
    "LfwPair",
    "Photos",
    "folder_comparisons",
    "folder_photos",
    "lfw_comparisons",
    "lfw_photos",
    "pairs_comparisons",
    "read_lfw_pairs",
    "write_lfw_fixture",
]

IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".pgm", ".webp", ".gif", ".bmp"})
#: cross-person pairs kept for false-accept estimates (enough for FAR 1e-4 with margin)
POOL_PAIRS: Final = 100_000
#: same-person pairs kept from a folder set (all of them when there are fewer)
MAX_GENUINE: Final = 20_000

F64 = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Embedded = Mapping[Path, F64 | None]


@dataclass(frozen=True, slots=True)
class Photos:
    """Photos and whose they are."""

    paths: tuple[Path, ...]
    people: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.people):
            raise ValueError("one person per photo")


@dataclass(frozen=True, slots=True)
class LfwPair:
    a: Path
    b: Path
    same: bool
    fold: int


@dataclass(frozen=True, slots=True, eq=False)
class Comparisons:
    """Embedded photos and the comparisons of one protocol, as index arrays.

    ``a[k]`` and ``b[k]`` are rows of ``embeddings`` compared in comparison ``k``; ``same``
    says whether they show one person; ``folds`` numbers the folds of the accuracy protocol;
    ``pool_a``/``pool_b`` are cross-person pairs for false-accept rates.
    """

    name: str
    embeddings: F64
    people: Ints
    a: Ints
    b: Ints
    same: Bools
    folds: Ints
    pool_a: Ints
    pool_b: Ints
    photos: int
    no_face: int
    dropped_pairs: int

    @property
    def genuine(self) -> int:
        return int(self.same.sum())

    @property
    def impostor(self) -> int:
        return int((~self.same).sum())


# --- reading layouts ---------------------------------------------------------------------


def folder_photos(root: Path) -> Photos:
    """The photos of a ``root/<person>/<photo>`` folder set, people in name order."""
    root = Path(root)
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a folder", advice="Give DIR laid out DIR/<person>/.")
    paths: list[Path] = []
    people: list[str] = []
    for person in sorted(p for p in root.iterdir() if p.is_dir()):
        for photo in sorted(person.iterdir()):
            if photo.is_file() and photo.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(photo)
                people.append(person.name)
    if len(set(people)) < 2:
        raise InvalidInput(
            f"{root} holds photos of fewer than two people",
            advice="Lay the photos out as DIR/<person>/<photo>, one folder per person.",
        )
    return Photos(tuple(paths), tuple(people))


def _lfw_photo(images: Path, name: str, number: str) -> Path:
    try:
        n = int(number)
    except ValueError:
        raise InvalidInput(f"pairs.txt: {number!r} is not an image number") from None
    stem = f"{name}_{n:04d}"
    exact = images / name / f"{stem}.jpg"
    if exact.is_file():
        return exact
    found = sorted(
        p for p in (images / name).glob(f"{stem}.*") if p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not found:
        raise InvalidInput(
            f"pairs.txt names {stem}, but {exact} does not exist",
            advice="Give --images the folder that holds one folder per person (LFW layout).",
        )
    return found[0]


def read_lfw_pairs(pairs_file: Path, images: Path) -> list[LfwPair]:
    """The pairs of an LFW ``pairs.txt``, with the photo each line names."""
    try:
        lines = [ln.split() for ln in Path(pairs_file).read_text().splitlines() if ln.strip()]
    except OSError as exc:
        raise InvalidInput(f"cannot read {pairs_file}: {exc.strerror}") from None
    if not lines:
        raise InvalidInput(f"{pairs_file} is empty")
    head = lines[0]
    try:
        folds, n = (1, int(head[0])) if len(head) == 1 else (int(head[0]), int(head[1]))
    except ValueError:
        raise InvalidInput(
            f"{pairs_file}: the first line must be '<folds> <pairs per fold>', got {head}"
        ) from None
    body = lines[1:]
    if folds < 1 or n < 1 or len(body) != folds * 2 * n:
        raise InvalidInput(
            f"{pairs_file}: the first line promises {folds} folds of {n} genuine and {n} "
            f"impostor pairs ({folds * 2 * n} lines), but {len(body)} follow"
        )
    pairs = []
    for k, fields in enumerate(body):
        fold, genuine = k // (2 * n), k % (2 * n) < n
        if genuine and len(fields) == 3:
            name, i, j = fields
            a, b = _lfw_photo(images, name, i), _lfw_photo(images, name, j)
        elif not genuine and len(fields) == 4:
            name, i, other, j = fields
            a, b = _lfw_photo(images, name, i), _lfw_photo(images, other, j)
        else:
            want = "name i j" if genuine else "name i name2 j"
            raise InvalidInput(f"{pairs_file}, line {k + 2}: expected '{want}', got {fields}")
        pairs.append(LfwPair(a, b, genuine, fold))
    return pairs


def lfw_photos(pairs: Sequence[LfwPair]) -> Photos:
    """The distinct photos the pairs use, each labelled by its folder (the person)."""
    paths = sorted({p for pair in pairs for p in (pair.a, pair.b)})
    return Photos(tuple(paths), tuple(p.parent.name for p in paths))


# --- building comparisons ----------------------------------------------------------------


def _embedded(photos: Photos, embedded: Embedded) -> tuple[list[int], F64]:
    keep = [i for i, p in enumerate(photos.paths) if embedded.get(p) is not None]
    rows = [embedded[photos.paths[i]] for i in keep]
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    return keep, matrix


def _person_ids(names: Sequence[str]) -> Ints:
    index = {n: k for k, n in enumerate(sorted(set(names)))}
    return np.array([index[n] for n in names], dtype=np.intp)


def _pool(people: Ints, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """Cross-person pairs: all of them if few enough, else POOL_PAIRS drawn at random."""
    n = len(people)
    total = n * (n - 1) // 2
    if total <= 2 * POOL_PAIRS:
        ia, ib = np.triu_indices(n, 1)
    else:
        ia = rng.integers(0, n, size=3 * POOL_PAIRS)
        ib = rng.integers(0, n, size=3 * POOL_PAIRS)
        ia, ib = np.minimum(ia, ib), np.maximum(ia, ib)
        keyed = np.unique(ia.astype(np.int64) * n + ib)
        ia, ib = keyed // n, keyed % n
    cross = people[ia] != people[ib]
    ia, ib = ia[cross], ib[cross]
    if ia.size > POOL_PAIRS:
        pick = np.sort(rng.choice(ia.size, POOL_PAIRS, replace=False))
        ia, ib = ia[pick], ib[pick]
    return ia.astype(np.intp), ib.astype(np.intp)


def _stratified_folds(same: Bools, k: int, rng: np.random.Generator) -> Ints:
    folds = np.empty(same.size, dtype=np.intp)
    for label in (True, False):
        idx = np.flatnonzero(same == label)
        rng.shuffle(idx)
        folds[idx] = np.arange(idx.size) % k
    return folds


def folder_comparisons(
    name: str, photos: Photos, embedded: Embedded, *, seed: int = 0, folds: int = 10
) -> Comparisons:
    """Every same-person pair (up to MAX_GENUINE) and as many cross-person pairs."""
    keep, matrix = _embedded(photos, embedded)
    people = _person_ids([photos.people[i] for i in keep])
    rng = np.random.default_rng(seed)
    ga, gb = np.triu_indices(len(people), 1)
    gen = people[ga] == people[gb]
    ga, gb = ga[gen], gb[gen]
    if ga.size > MAX_GENUINE:
        pick = np.sort(rng.choice(ga.size, MAX_GENUINE, replace=False))
        ga, gb = ga[pick], gb[pick]
    if ga.size == 0:
        raise InvalidInput(
            f"{name}: no person has two photos with a detectable face",
            advice="A verification benchmark needs at least two photos of some people.",
        )
    pool_a, pool_b = _pool(people, rng)
    count = min(ga.size, pool_a.size)
    pick = np.sort(rng.choice(pool_a.size, count, replace=False))
    a = np.concatenate([ga, pool_a[pick]])
    b = np.concatenate([gb, pool_b[pick]])
    same = np.concatenate([np.ones(ga.size, bool), np.zeros(count, bool)])
    return Comparisons(
        name=name,
        embeddings=matrix,
        people=people,
        a=a.astype(np.intp),
        b=b.astype(np.intp),
        same=same,
        folds=_stratified_folds(same, folds, rng),
        pool_a=pool_a,
        pool_b=pool_b,
        photos=len(photos.paths),
        no_face=len(photos.paths) - len(keep),
        dropped_pairs=0,
    )


def lfw_comparisons(
    name: str, pairs: Sequence[LfwPair], embedded: Embedded, *, seed: int = 0
) -> Comparisons:
    """The pairs of ``pairs.txt`` whose two photos both have a face, in their folds."""
    photos = lfw_photos(pairs)
    keep, matrix = _embedded(photos, embedded)
    row = {photos.paths[i]: r for r, i in enumerate(keep)}
    people = _person_ids([photos.people[i] for i in keep])
    usable = [p for p in pairs if p.a in row and p.b in row]
    if not any(p.same for p in usable) or all(p.same for p in usable):
        raise InvalidInput(f"{name}: too few pairs have a face in both photos")
    rng = np.random.default_rng(seed)
    a = np.array([row[p.a] for p in usable], dtype=np.intp)
    b = np.array([row[p.b] for p in usable], dtype=np.intp)
    same = np.array([p.same for p in usable], dtype=bool)
    folds = np.array([p.fold for p in usable], dtype=np.intp)
    if len(np.unique(folds)) < 2:  # a one-fold file (e.g. pairsDevTrain.txt): make ten
        folds = _stratified_folds(same, 10, rng)
    pool_a, pool_b = _pool(people, rng)
    pool_a = np.concatenate([a[~same], pool_a])
    pool_b = np.concatenate([b[~same], pool_b])
    return Comparisons(
        name=name,
        embeddings=matrix,
        people=people,
        a=a,
        b=b,
        same=same,
        folds=folds,
        pool_a=pool_a,
        pool_b=pool_b,
        photos=len(photos.paths),
        no_face=len(photos.paths) - len(keep),
        dropped_pairs=len(pairs) - len(usable),
    )


# --- fixtures ------------------------------------------------------------------------------


def write_lfw_fixture(
    sources: Sequence[Path], out: Path, *, folds: int = 2, per_fold: int = 5, seed: int = 0
) -> Path:
    """Write an LFW-format set (``out/<name>/<name>_NNNN.<ext>`` and ``out/pairs.txt``) made
    from folder sets ``<source>/<person>/<photo>``; returns the pairs file.

    People are renamed ``<source>_<person>`` (LFW names have no spaces); photos are copied and
    numbered from 1 in name order. Pairs are drawn with ``seed``.
    """
    out = Path(out)
    groups: dict[str, list[Path]] = {}
    for source in sources:
        photos = folder_photos(Path(source))
        for path, person in zip(photos.paths, photos.people, strict=True):
            groups.setdefault(f"{Path(source).name}_{person}".replace(" ", "_"), []).append(path)
    numbered: dict[str, list[Path]] = {}
    for name, paths in sorted(groups.items()):
        (out / name).mkdir(parents=True, exist_ok=True)
        numbered[name] = []
        for k, src in enumerate(paths, start=1):
            dst = out / name / f"{name}_{k:04d}{src.suffix.lower()}"
            shutil.copyfile(src, dst)
            numbered[name].append(dst)
    rng = random.Random(seed)
    multi = [n for n, ps in numbered.items() if len(ps) >= 2]
    names = sorted(numbered)
    if not multi or len(names) < 2:
        raise InvalidInput("an LFW fixture needs two people, one of them with two photos")
    lines = [f"{folds}\t{per_fold}"]
    for _ in range(folds):
        for _ in range(per_fold):
            name = rng.choice(multi)
            i, j = sorted(rng.sample(range(1, len(numbered[name]) + 1), 2))
            lines.append(f"{name}\t{i}\t{j}")
        for _ in range(per_fold):
            x, y = rng.sample(names, 2)
            i, j = rng.randint(1, len(numbered[x])), rng.randint(1, len(numbered[y]))
            lines.append(f"{x}\t{i}\t{y}\t{j}")
    pairs_file = out / "pairs.txt"
    pairs_file.write_text("\n".join(lines) + "\n")
    return pairs_file


def pairs_comparisons(
    name: str, pairs: Sequence[tuple[Path, Path, bool]], embedded: Embedded, *, seed: int = 0
) -> Comparisons:
    """A list of labelled pairs without names (e.g. ``in_the_wild/master.csv``).

    People are the connected groups of genuine pairs; the false-accept pool is the listed
    impostor pairs only, since unlisted pairs may show one person.
    """
    paths = sorted({p for a, b, _ in pairs for p in (a, b)})
    parent = {p: p for p in paths}

    def root(p: Path) -> Path:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for left, right, genuine in pairs:
        if genuine:
            parent[root(left)] = root(right)
    photos = Photos(tuple(paths), tuple(str(root(p)) for p in paths))
    keep, matrix = _embedded(photos, embedded)
    row = {photos.paths[i]: r for r, i in enumerate(keep)}
    people = _person_ids([photos.people[i] for i in keep])
    usable = [(x, y, g) for x, y, g in pairs if x in row and y in row]
    same = np.array([g for _, _, g in usable], dtype=bool)
    if not same.any() or same.all():
        raise InvalidInput(f"{name}: too few pairs have a face in both photos")
    a = np.array([row[x] for x, _, _ in usable], dtype=np.intp)
    b = np.array([row[y] for _, y, _ in usable], dtype=np.intp)
    rng = np.random.default_rng(seed)
    return Comparisons(
        name=name,
        embeddings=matrix,
        people=people,
        a=a,
        b=b,
        same=same,
        folds=_stratified_folds(same, 10, rng),
        pool_a=a[~same],
        pool_b=b[~same],
        photos=len(paths),
        no_face=len(paths) - len(keep),
        dropped_pairs=len(pairs) - len(usable),
    )
