"""``facegate evidence verify --require-witness KEY``: a bundle passes only if every named
witness cosigned its checkpoint.

Offline like the verifier it extends: it reads the verdict's verified cosignatures (the
verifier has checked each one against the key given) and names any required witness that is
missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from facegate.ledger.evidence_findings import BundleInvalid
from facegate.ledger.evidence_verdict import Verdict

__all__ = ["require_cosigners"]


def require_cosigners(verdict: Verdict, keys: Sequence[str]) -> None:
    """Raise :class:`BundleInvalid` unless each witness key in ``keys`` cosigned.

    The keys must also have been given to the verifier as trusted witness keys, so that their
    cosignatures were verified (``verify_bundle(..., witness_keys=keys)``).
    """
    have = {c.key.strip() for c in verdict.cosigned}
    missing = [k.strip() for k in keys if k.strip() not in have]
    if missing:
        names = ", ".join(k.split("+", 1)[0] for k in missing)
        raise BundleInvalid(
            f"the bundle's checkpoint carries no cosignature from the required witness {names}",
            advice="Export the bundle again once the regulator has cosigned a checkpoint that\n"
            "covers its events ('facegate link push'), or ask why the witness has not.",
        )
