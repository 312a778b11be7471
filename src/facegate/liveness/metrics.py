"""Presentation-attack detection error rates, as ISO/IEC 30107-3 defines them.

* APCER (attack presentation classification error rate), per presentation-attack
  instrument species (PAIS): the share of that species' attack presentations classified
  as bona fide. The overall APCER is the highest over the species, so one weak species
  cannot hide behind easy ones.
* BPCER (bona fide presentation classification error rate): the share of bona fide (live)
  presentations classified as attacks.
* ACER: (APCER + BPCER) / 2. It was defined in the standard's first edition and is
  discouraged since (it adds errors whose costs differ); it is reported as a summary only.

A presentation the system could not process (no face found, unreadable file) counts in
neither rate; the counts are reported beside them, as the standard asks. A rate over no
presentations is undefined (None), not zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PadMetrics", "SpeciesRate", "pad_metrics"]


@dataclass(frozen=True)
class SpeciesRate:
    """One attack species: how many were presented and how many passed as live."""

    presented: int
    accepted: int
    not_processed: int = 0

    @property
    def apcer(self) -> float | None:
        return self.accepted / self.presented if self.presented else None


@dataclass(frozen=True)
class PadMetrics:
    threshold: float
    bona_fide: int
    bona_fide_refused: int
    bona_fide_not_processed: int
    species: dict[str, SpeciesRate] = field(default_factory=dict)

    @property
    def bpcer(self) -> float | None:
        return self.bona_fide_refused / self.bona_fide if self.bona_fide else None

    @property
    def apcer(self) -> float | None:
        rates = [r.apcer for r in self.species.values() if r.apcer is not None]
        return max(rates) if rates else None

    @property
    def acer(self) -> float | None:
        apcer, bpcer = self.apcer, self.bpcer
        return None if apcer is None or bpcer is None else (apcer + bpcer) / 2

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "apcer": self.apcer,
            "bpcer": self.bpcer,
            "acer": self.acer,
            "bona_fide": {
                "presented": self.bona_fide,
                "refused": self.bona_fide_refused,
                "not_processed": self.bona_fide_not_processed,
            },
            "attack_species": {
                name: {
                    "presented": r.presented,
                    "accepted": r.accepted,
                    "not_processed": r.not_processed,
                    "apcer": r.apcer,
                }
                for name, r in sorted(self.species.items())
            },
        }


def pad_metrics(
    bona_fide: Sequence[bool | None],
    attacks: Mapping[str, Sequence[bool | None]],
    *,
    threshold: float,
) -> PadMetrics:
    """The rates from each presentation's verdict: True = classified bona fide (live),
    False = classified as an attack, None = not processed. ``attacks`` maps each species
    to its verdicts."""
    processed = [v for v in bona_fide if v is not None]
    species = {
        name: SpeciesRate(
            presented=sum(v is not None for v in verdicts),
            accepted=sum(v is True for v in verdicts),
            not_processed=sum(v is None for v in verdicts),
        )
        for name, verdicts in attacks.items()
    }
    return PadMetrics(
        threshold=threshold,
        bona_fide=len(processed),
        bona_fide_refused=sum(not v for v in processed),
        bona_fide_not_processed=len(bona_fide) - len(processed),
        species=species,
    )
