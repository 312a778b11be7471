"""Threshold mode's key material: the ceremony that makes it, and what each party keeps.

OpenFHE's multiparty BFV makes three key shares whose sum is the key behind one joint public
key; holder ``h`` of the three keeps shares ``h`` and ``h + 1 mod 3``
(:mod:`facegate.templates.he.threshold` puts them to work).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from facegate.templates.hazmat import aead, keys
from facegate.templates.he._party import Party

__all__ = ["HOLDERS", "HolderShare", "PublicMaterial", "ThresholdSetup", "publish"]

HOLDERS: Final = ("operator", "hsm", "regulator")
_SEAL_AD: Final = b"facegate/v1/he-threshold-share"


@dataclass(frozen=True, slots=True)
class PublicMaterial:
    """What devices and the server hold: the context, the joint public key, and the joint
    evaluation keys. No key share: anyone may have it."""

    context: bytes = field(repr=False)
    public_key: bytes = field(repr=False)
    eval_mult: bytes = field(repr=False)
    eval_sum: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class HolderShare:
    """One holder's two key shares (OpenFHE private keys), by share index."""

    holder: str
    shares: dict[int, bytes] = field(repr=False)

    def seal(self, kek: bytes) -> bytes:
        """Sealed (AES-256-GCM) under the holder's own 32-byte key-encryption key."""
        shares = {str(i): base64.b64encode(v).decode() for i, v in self.shares.items()}
        blob = json.dumps({"holder": self.holder, "shares": shares}).encode()
        return aead.seal(keys.derive(kek, label="he-threshold-share"), blob, ad=_SEAL_AD)

    @classmethod
    def open(cls, sealed: bytes, kek: bytes) -> HolderShare:
        """:meth:`seal`'s inverse; :class:`InvalidTemplate` under the wrong key."""
        blob = aead.open_sealed(keys.derive(kek, label="he-threshold-share"), sealed, ad=_SEAL_AD)
        data = json.loads(blob)  # authenticated by the AEAD: written by seal
        shares = {int(i): base64.b64decode(v) for i, v in data["shares"].items()}
        return cls(data["holder"], shares)


@dataclass(frozen=True, slots=True)
class ThresholdSetup:
    public: PublicMaterial
    shares: tuple[HolderShare, ...]

    @classmethod
    def ceremony(cls) -> ThresholdSetup:
        """OpenFHE's multiparty key generation, one process for each key share: share ``i``
        is made in its own process and leaves it only for the two holders that keep it
        (``i`` and ``i - 1``); what passes between the processes is public (the public key
        and evaluation keys as they grow), and a fourth process, holding no share, joins
        the evaluation keys. No OpenFHE process holds two shares; this call, standing in for
        the three sites, collects them to hand each holder its two (at a deployment each
        maker sends its share, sealed, to its two holders)."""
        makers = [Party() for _ in HOLDERS]
        publisher = Party()
        try:
            state = makers[0].call("keygen_first")
            for index, maker in enumerate(makers[1:], start=1):
                state = maker.call("keygen_next", index=index, **state)
            parts = [
                m.call("keygen_mult", joint=state["joint"], public_key=state["public_key"])
                for m in makers
            ]
            public = publish(publisher, state, parts)
            ks = [bytes(m.call("keygen_share")) for m in makers]
        finally:
            for party in (*makers, publisher):
                party.close()
        shares = tuple(
            HolderShare(name, {h: ks[h], (h + 1) % 3: ks[(h + 1) % 3]})
            for h, name in enumerate(HOLDERS)
        )
        return cls(public, shares)


def publish(publisher: Party, state: Mapping[str, Any], parts: Sequence[bytes]) -> PublicMaterial:
    """The public material from a finished joint key and every share's part of the
    relinearisation key, joined by a party that holds no share."""
    evals = publisher.call(
        "keygen_publish",
        context=state["context"],
        public_key=state["public_key"],
        parts=list(parts),
        sums=state["sums"],
    )
    return PublicMaterial(
        state["context"], state["public_key"], evals["eval_mult"], evals["eval_sum"]
    )
