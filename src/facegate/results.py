"""What the Gate hands back: frozen, public, free of secrets and biometric data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class _Public:
    def to_dict(self) -> dict[str, object]:
        def conv(v: object) -> object:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [conv(x) for x in v]
            return v

        return {k: conv(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class OperatorInfo(_Public):
    id: str
    name: str
    contact: str
    dpo: str = ""
    email: str = ""
    address: str = ""
    url: str = ""
    event_id: str = ""


@dataclass(frozen=True)
class PrincipalInfo(_Public):
    id: str
    operator_id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class IssuedApiKey(_Public):
    id: str
    operator_id: str
    principal_id: str
    key: str  # shown once; only its hash is stored
    expires_at: datetime | None
    deployment_id: str | None = None


@dataclass(frozen=True)
class ApiKeyInfo(_Public):
    id: str
    principal_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    deployment_id: str | None


@dataclass(frozen=True)
class NewPrincipal(_Public):
    principal: PrincipalInfo
    api_key: IssuedApiKey


@dataclass(frozen=True)
class DeploymentInfo(_Public):
    id: str
    operator_id: str
    name: str
    purpose: str
    necessity: str
    legal_basis: str
    location_type: str
    signage: bool
    jurisdiction: str
    retention_days: int
    alternative: str
    threshold: float
    scheme: str
    model_version: str
    status: str
    created_at: datetime
    #: the notice in force (0 while a draft awaits its first sign-off)
    notice_version: int
    event_id: str
    capabilities: tuple[str, ...] = ()
    capture: str | None = None
    scope: str = "application"
    signed_by: str | None = None
    signed_at: datetime | None = None
    notes: tuple[str, ...] = ()
    liveness: bool = False
    liveness_challenge: bool = False
    unknown_alerts: bool = False


@dataclass(frozen=True)
class NoticeInfo(_Public):
    deployment_id: str
    version: int
    sha256: str
    body: dict[str, str]


@dataclass(frozen=True)
class ConsentReceipt(_Public):
    consent_id: str
    deployment_id: str
    notice_version: int
    access_code: str  # given to the person once; only its hash is stored
    receipt: dict[str, object]
    event_id: str


@dataclass(frozen=True)
class EnrollResult(_Public):
    deployment_id: str
    template_id: str
    model_version: str
    scheme: str
    faces_found: int
    expires_at: datetime
    event_id: str


@dataclass(frozen=True)
class EncryptedEnrollResult(_Public):
    """An encrypted template stored: the server holds a ciphertext it cannot open."""

    deployment_id: str
    template_id: str
    scheme: str
    #: SHA-256 of the joint public key it is encrypted under
    ceremony: str
    expires_at: datetime
    event_id: str


@dataclass(frozen=True)
class EncryptedVerifyResult(_Public):
    """One bit, decided by the decision holder's comparison: no score exists anywhere."""

    deployment_id: str
    decision: Literal["match", "no_match"]
    scheme: str
    #: dlib's euclidean distance the decision is taken at
    distance_threshold: float
    event_id: str


@dataclass(frozen=True)
class EncryptedIdentifyResult(_Public):
    """1:N under encryption: one bit a template, decided by the decision holder; no score
    exists, so several people within the threshold are not ranked (``ambiguous``)."""

    deployment_id: str
    decision: Literal["match", "unknown", "pending", "ambiguous"]
    #: the person found (their consent asked); None unless ``match``
    subject_ref: str | None
    scheme: str
    #: dlib's euclidean distance the decisions are taken at
    distance_threshold: float
    #: encrypted templates met (every one of the deployment's, for this ceremony)
    gallery_size: int
    #: how many distinct people were within the threshold (several: ``ambiguous``)
    matched_people: int
    event_id: str
    #: a remote-identification match held for two reviewers (EU-AI-14)
    identification_id: str | None = None


@dataclass(frozen=True)
class FaceBoxOut(_Public):
    """A face's box in the photo's pixels; ``right`` and ``bottom`` are exclusive."""

    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class VerifyResult(_Public):
    deployment_id: str
    decision: Literal["match", "no_match"]
    score: float
    threshold: float
    model_version: str
    faces_ignored: int
    event_id: str
    #: the probe face's box (issue 17: for clients that draw it)
    box: FaceBoxOut | None = None


@dataclass(frozen=True)
class Candidate(_Public):
    subject_ref: str
    score: float


@dataclass(frozen=True)
class IdentifyResult(_Public):
    deployment_id: str
    decision: Literal["match", "unknown", "pending"]
    subject_ref: str | None
    score: float | None
    threshold: float
    model_version: str
    faces_ignored: int
    gallery_size: int
    event_id: str
    #: set when the match awaits two reviewers (remote identification, EU-AI-14)
    identification_id: str | None = None
    #: with ``top`` > 1: everyone above the threshold whose consent is in force, best first
    #: (the first is ``subject_ref``); never a stranger's score
    candidates: tuple[Candidate, ...] = ()
    #: the probe face's box
    box: FaceBoxOut | None = None


@dataclass(frozen=True)
class ErasureReceipt(_Public):
    deployment_id: str
    templates_erased: int
    key_destroyed: bool
    reason: str
    erased_at: datetime
    event_id: str


@dataclass(frozen=True)
class LedgerReport(_Public):
    ok: bool
    size: int
    root_hex: str
    heads_checked: int
    first_bad_index: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class PiaView(_Public):
    """An impact assessment as the DPO reviews it: the answers, what is missing, who
    signed it and when, and the notice that signing publishes."""

    deployment_id: str
    version: int
    status: str
    answers: dict[str, str]
    missing: tuple[str, ...]
    signed_by: str | None
    signed_at: datetime | None
    notice_preview: dict[str, object]


@dataclass(frozen=True)
class EndReceipt(_Public):
    deployment_id: str
    people_erased: int
    templates_erased: int
    reason: str
    ended_at: datetime
    event_id: str


@dataclass(frozen=True)
class SelfCheckReport(_Public):
    ok: bool
    controls: dict[str, bool | None]
    measurements: dict[str, str]
    rule_ids: tuple[str, ...]
    problems: tuple[str, ...]
    event_id: str


@dataclass(frozen=True)
class ReviewResult(_Public):
    identification_id: str
    status: Literal["pending", "confirmed", "rejected"]
    reviewers: list[str]
    subject_ref: str | None  # named only once two distinct reviewers confirmed
    score: float | None  # None: an encrypted search, which has no score
    event_id: str


# --- recognition features (issue 17): liveness challenges, detection, comparison, corrections


@dataclass(frozen=True)
class ChallengeIssued(_Public):
    """An active liveness challenge for a camera page: do ``challenge`` in front of the
    camera, send ``min_frames`` to ``max_frames`` frames before ``expires_at``."""

    challenge_id: str
    deployment_id: str
    act: Literal["enroll", "verify"]
    challenge: Literal["blink", "turn_left", "turn_right"]
    instructions: str
    expires_at: datetime
    min_frames: int
    max_frames: int


@dataclass(frozen=True)
class ChallengeAnswer(_Public):
    """Whether the frames showed the challenge; a passed one is good for one act."""

    challenge_id: str
    challenge: str
    passed: bool
    #: for the person: what was seen, or what to do next
    reason: str
    frames: int
    expires_at: datetime
    event_id: str


@dataclass(frozen=True)
class DetectedFace(_Public):
    box: FaceBoxOut
    #: dlib's HOG detector margin (0: the weakest face it reports; not a probability)
    score: float
    #: the score squashed into (0.5, 1), uncalibrated (for clients that want a probability)
    probability: float
    #: 5 points (eye corners, nose base) or 68 (iBUG), whole pixels, ``[[x, y], ...]``
    landmarks: list[list[int]]


@dataclass(frozen=True)
class DetectResult(_Public):
    deployment_id: str
    faces: list[DetectedFace]
    width: int
    height: int
    detector: str
    event_id: str


@dataclass(frozen=True)
class CompareResult(_Public):
    """Two photos compared (the largest face of each), neither stored."""

    deployment_id: str
    decision: Literal["match", "no_match"]
    score: float
    threshold: float
    model_version: str
    source_box: FaceBoxOut
    target_box: FaceBoxOut
    faces_ignored: int
    event_id: str


@dataclass(frozen=True)
class FlagResult(_Public):
    event_id: str
    flagged_event_id: str
    deployment_id: str
    verdict: Literal["false_accept", "false_reject"]


@dataclass(frozen=True)
class ThresholdRow(_Public):
    """The decisions taken at one threshold and how many were flagged wrong."""

    threshold: float
    decisions: int
    accepts: int
    rejects: int
    false_accepts: int
    false_rejects: int
    #: flagged false accepts per accept / false rejects per reject (lower bounds: an
    #: unflagged mistake is not counted)
    false_accept_share: float | None
    false_reject_share: float | None


@dataclass(frozen=True)
class ThresholdReport(_Public):
    deployment_id: str
    threshold: float
    rows: list[ThresholdRow]
    flags: int


@dataclass(frozen=True)
class UnknownFaceAlert(_Public):
    event_id: str
    deployment_id: str
    at: datetime
    input_sha256: str
    identify_event_id: str
