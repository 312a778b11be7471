"""A deployment's encrypted gallery in blocks of 128 templates (issue 16), so that one
encrypted comparison meets a whole block.

Packing masks each template into its position of a block (about 34 ms a template on 2
cores), so the blocks are packed once and kept in this process's memory while their
templates do not change: the gallery is cut into runs of 128 in enrolment order, and a run
whose template ids are unchanged keeps its block. An enrolment packs one block again; an
erasure packs the runs from its own onwards. Only ciphertexts are kept: a block opens to
nobody without two of the three key holders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from facegate.templates.he.threshold import POSITIONS, ThresholdVerifier

__all__ = ["Block", "GalleryBlocks"]


@dataclass(frozen=True, slots=True)
class Block:
    """One packed block: the template at each position, in order, and the ciphertext."""

    template_ids: tuple[str, ...]
    ciphertext: bytes


class GalleryBlocks:
    """The packed blocks of one deployment's gallery under one ceremony."""

    def __init__(self, verifier: ThresholdVerifier) -> None:
        self._verifier = verifier
        self._blocks: dict[tuple[str, ...], bytes] = {}
        self._lock = threading.Lock()

    def blocks(
        self, template_ids: Sequence[str], opened: Callable[[Sequence[str]], list[bytes]]
    ) -> list[Block]:
        """The blocks of the gallery ``template_ids`` (in enrolment order); ``opened`` gives
        the ciphertexts of the templates of a run that must be packed again."""
        runs = [
            tuple(template_ids[i : i + POSITIONS]) for i in range(0, len(template_ids), POSITIONS)
        ]
        with self._lock:  # one packing at a time: the verifier's party is one process
            kept = {run: self._blocks[run] for run in runs if run in self._blocks}
            for run in runs:
                if run not in kept:
                    kept[run] = self._pack(opened(run))
            self._blocks = kept  # runs no longer in the gallery are forgotten
            return [Block(run, kept[run]) for run in runs]

    def _pack(self, templates: Sequence[bytes]) -> bytes:
        block: bytes | None = None
        for position, template in enumerate(templates):
            block = self._verifier.pack(block, template, position)
        assert block is not None  # a run has at least one template
        return block

    def close(self) -> None:
        with self._lock:
            self._blocks = {}
