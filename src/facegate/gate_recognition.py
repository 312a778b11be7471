"""The Gate's recognition methods: enroll, verify and identify, and (issue 17) detection,
comparison, active liveness challenges, flagged mistakes and the threshold report, unknown-face
alerts (one mixin, to keep the Gate's module readable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from facegate.actors import Actor
from facegate.core import Core
from facegate.flows import (
    biometrics,
    challenges,
    collection,
    compare,
    corrections,
    detect,
    encrypted,
    encrypted_identify,
    identify,
)
from facegate.flows.collection import Face
from facegate.results import (
    ChallengeAnswer,
    ChallengeIssued,
    CompareResult,
    DetectResult,
    EncryptedEnrollResult,
    EncryptedIdentifyResult,
    EncryptedVerifyResult,
    EnrollResult,
    FlagResult,
    IdentifyResult,
    ThresholdReport,
    UnknownFaceAlert,
    VerifyResult,
)


class RecognitionMethods:
    _core: Core
    _actor: Actor

    def enroll(
        self, deployment_id: str, subject_ref: str, image: bytes, *, challenge_id: str | None = None
    ) -> EnrollResult:
        """Store a protected template of the one face in ``image`` (after the liveness
        checks the deployment asks for, and the quality gate)."""
        return biometrics.enroll(
            self._core, self._actor, deployment_id, subject_ref, image, challenge_id=challenge_id
        )

    def verify(
        self, deployment_id: str, subject_ref: str, image: bytes, *, challenge_id: str | None = None
    ) -> VerifyResult:
        """1:1: is the largest face in ``image`` this enrolled person?"""
        return biometrics.verify(
            self._core, self._actor, deployment_id, subject_ref, image, challenge_id=challenge_id
        )

    def identify(self, deployment_id: str, image: bytes, *, top: int = 1) -> IdentifyResult:
        """1:N within one deployment; ``"unknown"`` when nobody reaches the threshold; with
        ``top`` > 1 also the next candidates the law lets us name (never a stranger's score)."""
        return identify.identify(self._core, self._actor, deployment_id, image, top=top)

    def detect(
        self, deployment_id: str, image: bytes, *, landmarks: int = 5, limit: int = 0
    ) -> DetectResult:
        """Every face in ``image``: box, detection score, 5 or 68 landmarks (or 0). Asked of
        the law as a search (Act.SCAN); nothing is stored, the act is ledgered."""
        return detect.detect(
            self._core, self._actor, deployment_id, image, landmarks=landmarks, limit=limit
        )

    def compare(self, deployment_id: str, source: bytes, target: bytes) -> CompareResult:
        """Is the largest face of ``source`` the person of ``target``'s? Neither is stored;
        the act is decided (Act.SCAN) and ledgered with both photos' SHA-256."""
        return compare.compare(self._core, self._actor, deployment_id, source, target)

    def liveness_challenge(
        self, deployment_id: str, subject_ref: str, *, act: str, challenge: str | None = None
    ) -> ChallengeIssued:
        """An active liveness challenge (blink, turn_left, turn_right) for this person's
        next ``act`` ("enroll" or "verify"); see docs/liveness.md."""
        return challenges.issue(
            self._core, self._actor, deployment_id, subject_ref, act, challenge=challenge
        )

    def answer_challenge(
        self,
        deployment_id: str,
        challenge_id: str,
        frames: Sequence[bytes],
        *,
        mirrored: bool = False,
    ) -> ChallengeAnswer:
        """Judge the camera frames (time order) sent for a challenge; one answer each."""
        return challenges.answer(
            self._core, self._actor, deployment_id, challenge_id, frames, mirrored=mirrored
        )

    def flag_match(
        self, event_id: str, verdict: str, *, note: str = "", deployment_id: str | None = None
    ) -> FlagResult:
        """Flag a verify, identify or compare decision as a false accept or false reject."""
        return corrections.flag(
            self._core, self._actor, event_id, verdict, note=note, deployment_id=deployment_id
        )

    def threshold_report(self, deployment_id: str) -> ThresholdReport:
        """Decisions and flagged mistakes per threshold in use when they were taken."""
        return corrections.threshold_report(self._core, self._actor, deployment_id)

    def alerts(
        self, deployment_id: str, *, since: datetime | None = None
    ) -> list[UnknownFaceAlert]:
        """Unknown-face alerts of a deployment that asks for them (``unknown_alerts``)."""
        return corrections.alerts(self._core, self._actor, deployment_id, since=since)

    # --- threshold encrypted verification (issue 16): ciphertexts only -------------------

    def encrypted_public_key(self, deployment_id: str) -> tuple[str, bytes, bytes]:
        """(ceremony id, OpenFHE context, joint public key): what a capture device
        encrypts under (:class:`facegate.templates.he.threshold.ThresholdDevice`)."""
        return encrypted.public_key(self._core, self._actor, deployment_id)

    def enroll_encrypted(
        self, deployment_id: str, subject_ref: str, ciphertext: bytes
    ) -> EncryptedEnrollResult:
        """Store a capture device's encrypted embedding, once the law allows it."""
        return encrypted.enroll(self._core, self._actor, deployment_id, subject_ref, ciphertext)

    def verify_encrypted(
        self, deployment_id: str, subject_ref: str, ciphertext: bytes
    ) -> EncryptedVerifyResult:
        """1:1 under encryption: the decision holder learns one bit, nobody a score."""
        return encrypted.verify(self._core, self._actor, deployment_id, subject_ref, ciphertext)

    def identify_encrypted(self, deployment_id: str, ciphertext: bytes) -> EncryptedIdentifyResult:
        """1:N under encryption: the probe meets every encrypted template of the deployment,
        one bit each; one person within the threshold is named, several are ``ambiguous``."""
        return encrypted_identify.identify(self._core, self._actor, deployment_id, ciphertext)

    def admit_search(self, deployment_id: str) -> None:
        """Ask the law whether the deployment may search the people in view (Act.SCAN);
        a refusal is ledgered and raised citing the rule. No face is touched."""
        encrypted_identify.admit_search(self._core, self._actor, deployment_id)

    # --- people and templates as collections (the CompreFace-compatible API) --------------

    def service_deployment(self, api_key: str) -> str | None:
        """The deployment an API key is scoped to (a CompreFace-style service key), if any."""
        return collection.service_deployment(self._core, api_key)

    def admit_subject(self, deployment_id: str, subject_ref: str) -> None:
        """Ask the law whether this person may be enrolled (consent in force); a refusal
        is ledgered and raised citing the rule. No face is touched."""
        collection.admit_subject(self._core, self._actor, deployment_id, subject_ref)

    def list_subjects(self, deployment_id: str) -> list[str]:
        """The references of the people with a consent record in the deployment."""
        return collection.subjects(self._core, self._actor, deployment_id)

    def list_faces(
        self, deployment_id: str, subject_ref: str | None = None, *, template_id: str | None = None
    ) -> list[Face]:
        """The deployment's protected templates (ids and their person's reference)."""
        return collection.faces(
            self._core, self._actor, deployment_id, subject_ref, template_id=template_id
        )

    def delete_faces(
        self,
        deployment_id: str,
        *,
        subject_ref: str | None = None,
        template_id: str | None = None,
    ) -> list[Face]:
        """Delete one template, or all of one person's (the person and consent stay)."""
        return collection.delete_faces(
            self._core,
            self._actor,
            deployment_id,
            subject_ref=subject_ref,
            template_id=template_id,
        )
