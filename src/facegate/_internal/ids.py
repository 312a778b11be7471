"""Random, prefixed identifiers (``dep_3f9a...``) from injectable entropy."""

from __future__ import annotations

from facegate._internal.clock import Entropy


def new_id(prefix: str, entropy: Entropy) -> str:
    return f"{prefix}_{entropy(12).hex()}"
