"""The extension lines facegate adds to its checkpoints (c2sp.org/tlog-checkpoint allows them).

* ``facegate/index/v1 <base64 root>``: the root of the verifiable index over the first
  ``size`` entries (see :mod:`facegate.ledger.index_hasher`), so every signed head commits to
  the history of every subject and deployment, and a witness that rebuilds the index from the
  log can refuse a head whose index does not match.
* ``facegate/prev <size>``: the size of the head signed before this one (0 for the first), so
  the signed heads form a chain and a head deleted from the database is named by its successor.

Both lines are inside the signed text; tools that do not know them (Go's sumdb/note, any C2SP
client) verify the note all the same and ignore them. Heads signed before these lines existed
carry neither; :func:`read_head_lines` then returns ``None`` for both.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from facegate.ledger.checkpoint import Checkpoint, NoteFormatError
from facegate.ledger.hasher import HASH_SIZE

__all__ = ["INDEX_LINE", "PREV_LINE", "HeadLines", "head_extensions", "read_head_lines"]

INDEX_LINE: Final = "facegate/index/v1"
PREV_LINE: Final = "facegate/prev"
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)


@dataclass(frozen=True, slots=True)
class HeadLines:
    """What facegate's extension lines of one checkpoint say (None: the line is absent)."""

    index_root: bytes | None
    prev: int | None


def head_extensions(*, index_root: bytes | None, prev: int) -> tuple[str, ...]:
    """The extension lines of a head: the index root (if the index is kept) and the previous
    head's size."""
    if not 0 <= prev < 2**64:
        raise ValueError(f"a previous size must be in [0, 2**64), got {prev}")
    lines: list[str] = []
    if index_root is not None:
        if len(index_root) != HASH_SIZE:
            raise ValueError(f"an index root is {HASH_SIZE} bytes, got {len(index_root)}")
        lines.append(f"{INDEX_LINE} {base64.b64encode(index_root).decode()}")
    lines.append(f"{PREV_LINE} {prev}")
    return tuple(lines)


def _value(line: str, name: str) -> str | None:
    head, sep, value = line.partition(" ")
    return value if sep and head == name else None


def read_head_lines(checkpoint: Checkpoint) -> HeadLines:
    """facegate's lines of a checkpoint, strictly: each at most once and well formed.

    Other extension lines are ignored (they belong to someone else). Raises
    :class:`~facegate.ledger.checkpoint.NoteFormatError`.
    """
    root: bytes | None = None
    prev: int | None = None
    for line in checkpoint.extensions:
        if (text := _value(line, INDEX_LINE)) is not None:
            if root is not None:
                raise NoteFormatError(f"the checkpoint has two {INDEX_LINE} lines")
            root = _root(text)
        elif (text := _value(line, PREV_LINE)) is not None:
            if prev is not None:
                raise NoteFormatError(f"the checkpoint has two {PREV_LINE} lines")
            if not _DECIMAL.fullmatch(text) or int(text) >= 2**64:
                raise NoteFormatError(f"the {PREV_LINE} line is not a size: {text!r}")
            prev = int(text)
    if prev is not None and prev >= checkpoint.size and checkpoint.size:
        raise NoteFormatError(
            "the previous head must be smaller than this one",
            expected=f"< {checkpoint.size}",
            computed=prev,
        )
    return HeadLines(root, prev)


def _root(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteFormatError(f"the {INDEX_LINE} root is not base64") from None
    if base64.b64encode(raw).decode() != text or len(raw) != HASH_SIZE:
        raise NoteFormatError(
            f"the {INDEX_LINE} root is not a canonical base64 {HASH_SIZE}-byte hash"
        )
    return raw
