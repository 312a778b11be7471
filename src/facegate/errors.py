"""One error tree for all of facegate.

Every error explains itself to a person: ``str(err)`` is one line saying what went wrong,
``err.advice`` says what to do next, and ``err.diagnostics()`` joins both for a terminal.
Domain code raises these; ``api/`` maps them to HTTP status codes and ``cli/`` to exit codes,
each in one place. Crypto failures are deliberately opaque (:class:`InvalidTemplate`) so that
they cannot serve as an oracle.
"""

from __future__ import annotations

from typing import ClassVar


class FacegateError(Exception):
    """Base of every error facegate raises on purpose."""

    #: stable machine-readable code, e.g. ``"no_face"``
    code: ClassVar[str] = "facegate_error"
    #: default advice when the raiser gives none
    default_advice: ClassVar[str] = ""

    def __init__(self, message: str, *, advice: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice if advice is not None else self.default_advice

    def diagnostics(self) -> str:
        """A multi-line explanation for people: what happened, then what to do."""
        lines = [f"error: {self.message}"]
        if self.advice:
            lines.extend(f"  hint: {line}" for line in self.advice.splitlines())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, "advice": self.advice}


# --- bad input -------------------------------------------------------------------------------


class InvalidInput(FacegateError):
    """The caller sent something facegate cannot use. Nothing was changed."""

    code = "invalid_input"


class ImageError(InvalidInput):
    code = "invalid_image"
    default_advice = "Send a JPEG, PNG, WebP, GIF or PGM photo of one face."


class UnsupportedImage(ImageError):
    code = "unsupported_image"


class CorruptImage(ImageError):
    code = "corrupt_image"
    default_advice = "The file is damaged or truncated; take or export the photo again."


class ImageTooLarge(ImageError):
    code = "image_too_large"
    default_advice = "Resize the photo (a face of 150 to 1000 pixels across is plenty) and retry."


class DecompressionBomb(ImageTooLarge):
    code = "decompression_bomb"
    default_advice = "The image claims far more pixels than a photo has; it was refused unread."


class FaceError(InvalidInput):
    code = "face_error"


class NoFace(FaceError):
    code = "no_face"
    default_advice = "Use a well-lit, frontal photo where the whole face is visible."


class ManyFaces(FaceError):
    code = "many_faces"
    default_advice = "Enrollment needs a photo with exactly one person in it; crop the others out."


class FaceTooSmall(FaceError):
    code = "face_too_small"
    default_advice = "Move closer to the camera or use a higher-resolution photo."


class NotLive(FaceError):
    """The liveness check judged the face a presentation attack (a print, a screen, a mask)
    or could not see it well enough. The refusal is ledgered; nothing was stored."""

    code = "liveness_failed"
    default_advice = (
        "Look straight at the camera in even light, with nothing in front of your face,\n"
        "and retake the photo. A photo of a photo or of a screen is refused."
    )


class PoorQuality(FaceError):
    """The face is too blurred, turned, dark or bright to make a good template. ``reasons``
    says which, in words for the person being photographed."""

    code = "poor_quality"

    def __init__(self, message: str, *, reasons: tuple[str, ...], advice: str | None = None):
        super().__init__(message, advice=advice if advice is not None else "\n".join(reasons))
        self.reasons = reasons

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "reasons": list(self.reasons)}


class InvalidCiphertext(InvalidInput):
    """What a capture device sent is not a ciphertext of this deployment's encrypted mode
    (empty, too large, or unreadable by OpenFHE); nothing was stored or decided."""

    code = "invalid_ciphertext"
    default_advice = (
        "Send the ciphertext ThresholdDevice.encrypt made under the joint public key of\n"
        "GET /v1/deployments/{id}/encrypted/public-key."
    )


class ChallengeInvalid(InvalidInput):
    """An active liveness challenge is required and the one given cannot be used: unknown,
    expired, already used, failed, or for another person, act or photo."""

    code = "liveness_challenge_invalid"
    default_advice = (
        "Ask for a new challenge (POST .../liveness/challenges), do it in front of the\n"
        "camera, and send one of its frames with the challenge id within two minutes."
    )


# --- state -----------------------------------------------------------------------------------


class NotFound(FacegateError):
    code = "not_found"


class Conflict(FacegateError):
    code = "conflict"


class PolicyDenied(FacegateError):
    """A legal rule forbids the act. ``rule_id`` cites LEGAL-RULES.md."""

    code = "policy_denied"

    def __init__(
        self,
        message: str,
        *,
        rule_id: str,
        advice: str | None = None,
        rule_ids: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{message} [{rule_id}]", advice=advice)
        self.rule_id = rule_id
        self.rule_ids = rule_ids or (rule_id,)

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["rule_id"] = self.rule_id
        out["rule_ids"] = list(self.rule_ids)
        return out


class Unauthenticated(FacegateError):
    code = "unauthenticated"
    default_advice = "Send a valid API key in the 'Authorization: Bearer <key>' header."


class Forbidden(FacegateError):
    code = "forbidden"
    default_advice = "This key belongs to another operator; use that operator's key."


# --- integrity and configuration -------------------------------------------------------------


class InvalidTemplate(FacegateError):
    """A stored template or key could not be opened. Deliberately says nothing more."""

    code = "invalid_template"

    def __init__(self, message: str = "the protected template could not be opened") -> None:
        super().__init__(message, advice="")


class LedgerError(FacegateError):
    code = "ledger_error"


class LedgerTampered(LedgerError):
    """The ledger does not verify. ``index`` is the first bad entry (or None for the head)."""

    code = "ledger_tampered"
    default_advice = (
        "The evidence log was altered outside facegate. Preserve the database as it is and\n"
        "compare it with the last checkpoint a witness co-signed."
    )

    def __init__(self, message: str, *, index: int | None, advice: str | None = None) -> None:
        super().__init__(message, advice=advice)
        self.index = index


class RecordAltered(LedgerError):
    """A stored row contradicts what sealed it: the database was altered outside facegate."""

    code = "record_altered"
    default_advice = (
        "The database was altered outside facegate. Preserve it as it is, restore the last\n"
        "good backup, and check the ledger ('facegate ledger verify')."
    )


class ConfigError(FacegateError):
    code = "config_error"


class Busy(FacegateError):
    """The service is at capacity for now (e.g. decoding many large photos at once); nothing
    was changed, and the same request may simply be retried."""

    code = "busy"
    default_advice = "Retry in a few seconds."


class PartyUnavailable(Busy):
    """Another party of encrypted verification (the decision holder, or a key holder behind
    it) did not answer; nothing was decided or recorded, and the request may be retried."""

    code = "party_unavailable"
    default_advice = (
        "Check that the decision holder and at least two of the three key holders are\n"
        "running and reachable ('facegate encrypted node-serve'), then retry."
    )
