"""An encrypted gallery's blocks: runs of 128 in enrolment order, packed once, packed again
only where their templates changed (issue 16)."""

from __future__ import annotations

from collections.abc import Sequence

from facegate.encrypted.blocks import GalleryBlocks
from facegate.templates.he.threshold import POSITIONS


class Packer:
    """Stands in for the server's OpenFHE party: a block is the templates joined, in order."""

    def __init__(self) -> None:
        self.packed: list[bytes] = []

    def pack(self, block: bytes | None, template: bytes, position: int) -> bytes:
        assert position == (0 if block is None else block.count(b"|"))
        self.packed.append(template)
        return (block or b"") + template + b"|"


def _ids(n: int, start: int = 0) -> list[str]:
    return [f"t{i}" for i in range(start, start + n)]


def test_runs_of_128_are_packed_once_and_again_only_where_they_changed() -> None:
    packer = Packer()
    blocks = GalleryBlocks(packer)  # type: ignore[arg-type]
    opened: list[tuple[str, ...]] = []

    def opener(run: Sequence[str]) -> list[bytes]:
        opened.append(tuple(run))
        return [i.encode() for i in run]

    gallery = _ids(POSITIONS + 5)
    first = blocks.blocks(gallery, opener)
    assert [len(b.template_ids) for b in first] == [POSITIONS, 5]
    assert first[1].ciphertext == b"".join(f"t{i}|".encode() for i in range(POSITIONS, 133))
    assert len(packer.packed) == POSITIONS + 5
    assert blocks.blocks(gallery, opener) == first  # nothing changed: nothing packed
    assert len(packer.packed) == POSITIONS + 5 and len(opened) == 2
    grown = [*gallery, "t999"]  # an enrolment packs the last run again
    assert blocks.blocks(grown, opener)[0] == first[0]
    assert opened[-1] == (*gallery[POSITIONS:], "t999")
    erased = grown[1:]  # an erasure in the first run shifts every later run
    again = blocks.blocks(erased, opener)
    assert [b.template_ids for b in again] == [tuple(erased[:POSITIONS]), tuple(erased[POSITIONS:])]
    assert blocks.blocks([], opener) == []
    blocks.close()
