"""Notices: what a person must be told before their face is processed (CN-FR-5, ISO-29184).

A notice is versioned; its hash is bound into every consent, so a changed notice voids the
consents given to the old one (CN-PIPL-14).
"""

from __future__ import annotations

from dataclasses import dataclass

from facegate._internal.canonical import canonical_json, sha256_hex

#: every field CN-FR-5 requires a notice to state
REQUIRED_FIELDS = (
    "processor",
    "contact",
    "purpose",
    "method",
    "retention",
    "impact",
    "necessity",
    "rights",
    "alternative",
)


@dataclass(frozen=True)
class NoticeDraft:
    processor: str
    contact: str
    purpose: str
    necessity: str
    retention_days: int
    alternative: str
    location_type: str

    def body(self) -> dict[str, str]:
        return {
            "processor": self.processor,
            "contact": self.contact or "ask at the reception of this site",
            "purpose": self.purpose,
            "method": (
                f"A camera at this {self.location_type.replace('_', ' ')} takes your photo; "
                "software turns it into a protected template that cannot be turned back into "
                "a photo. The photo itself is discarded at once."
            ),
            "retention": (
                f"Your template is kept for at most {self.retention_days} days, or until you "
                "withdraw consent, whichever comes first."
            ),
            "impact": (
                "Face data is sensitive personal information: if misused it could identify you "
                "without your knowledge. Templates here are encrypted and keyed to this site "
                "only, and every use is written to a tamper-evident log."
            ),
            "necessity": self.necessity,
            "rights": (
                "You may refuse, withdraw at any time (as easily as you consented), see what is "
                "held about you and every use of it, and have it erased, using the access code "
                "on your consent receipt."
            ),
            "alternative": self.alternative,
        }


def notice_hash(body: dict[str, str]) -> str:
    return sha256_hex(canonical_json(body))


def missing_fields(body: dict[str, str]) -> list[str]:
    return [f for f in REQUIRED_FIELDS if not str(body.get(f, "")).strip()]
