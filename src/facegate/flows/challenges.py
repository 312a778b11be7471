"""Active liveness: issue a challenge (blink, turn left, turn right) to a camera page and
judge the frames it sends back.

A challenge is issued for one person, one act (enroll or verify) and a short time
(:data:`CHALLENGE_TTL`). Its answer is a few camera frames: the law is asked for that act
on that person before any frame is decoded (the frames are faces); each frame's largest face
gets its landmarks (dlib's 68 points for a blink, the aligner's 5 for a turn) and
:func:`facegate.liveness.active.judge` says whether the run shows the challenge. One answer
per challenge, pass or fail; the frames' SHA-256 are kept so that the act can check its
photo is one of them (:func:`facegate.flows.liveness.use_challenge`). Nothing of the faces
is kept or ledgered: the event holds the challenge, the verdict and a hash of the frames'
hashes. The contract for the camera page is in docs/liveness.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal, cast

from sqlalchemy import update

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import ChallengeInvalid, InvalidInput, NotFound
from facegate.flows.biometrics import consent_of
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.liveness.active import CHALLENGES, Challenge, judge
from facegate.policy import Act
from facegate.recognition import decode_image
from facegate.recognition.faces import find_faces
from facegate.results import ChallengeAnswer, ChallengeIssued
from facegate.storage import tables as t

#: from issue to use: enough to do the challenge and send the photo, too short to pass it on
CHALLENGE_TTL = timedelta(seconds=120)
MIN_FRAMES, MAX_FRAMES = 2, 12
INSTRUCTIONS: dict[Challenge, str] = {
    "blink": "Look at the camera and blink once, slowly.",
    "turn_left": "Look at the camera, then turn your head to your left.",
    "turn_right": "Look at the camera, then turn your head to your right.",
}
_ACTS = {"enroll": (Act.ENROLL, Kind.ENROLLED), "verify": (Act.VERIFY, Kind.VERIFIED)}


def issue(
    core: Core,
    actor: Actor,
    deployment_id: str,
    subject_ref: str,
    act: str,
    *,
    challenge: str | None = None,
) -> ChallengeIssued:
    """A new challenge for this person and act (``challenge`` by default drawn at random)."""
    require(actor, "process_faces", "start liveness challenges")
    if act not in _ACTS:
        raise InvalidInput(f"a challenge is for 'enroll' or 'verify', not {act!r}")
    if challenge is not None and challenge not in CHALLENGES:
        raise InvalidInput(f"a challenge is one of {', '.join(CHALLENGES)}, not {challenge!r}")
    chosen: Challenge = CHALLENGES[core.entropy(1)[0] % len(CHALLENGES)]
    if challenge is not None:
        chosen = challenge
    now = core.clock()
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        subject = core.subject(s, dep, subject_ref)
        if subject is None:
            raise NotFound(
                "this person has no consent recorded in this deployment",
                advice="Record their consent first; a challenge is for someone who consented.",
            )
        row = t.LivenessChallenge(
            id=new_id("chl", core.entropy),
            deployment_id=dep.id,
            subject_id=subject.id,
            act=act,
            challenge=chosen,
            issued_by=actor.principal_id,
            issued_at=now,
            expires_at=now + CHALLENGE_TTL,
            status="issued",
        )
        s.add(row)
    return ChallengeIssued(
        challenge_id=row.id,
        deployment_id=row.deployment_id,
        act=cast(Literal["enroll", "verify"], act),
        challenge=chosen,
        instructions=INSTRUCTIONS[chosen],
        expires_at=now + CHALLENGE_TTL,
        min_frames=MIN_FRAMES,
        max_frames=MAX_FRAMES,
    )


def answer(
    core: Core,
    actor: Actor,
    deployment_id: str,
    challenge_id: str,
    frames: Sequence[bytes],
    *,
    mirrored: bool = False,
) -> ChallengeAnswer:
    """Judge ``frames`` (camera frames in time order) for the challenge; one answer each."""
    require(actor, "process_faces", "answer liveness challenges")
    if not MIN_FRAMES <= len(frames) <= MAX_FRAMES:
        raise InvalidInput(f"send {MIN_FRAMES} to {MAX_FRAMES} frames, not {len(frames)}")
    row, dep, rules = _admit(core, actor, deployment_id, challenge_id)
    hashes = [hashlib.sha256(f).hexdigest() for f in frames]
    passed, reason = _judge(core, cast(Challenge, row.challenge), frames, mirrored=mirrored)
    now = core.clock()
    with core.db.transaction() as s:
        done = s.execute(
            update(t.LivenessChallenge)
            .where(t.LivenessChallenge.id == row.id, t.LivenessChallenge.status == "issued")
            .values(
                status="passed" if passed else "failed",
                answered_at=now,
                frame_hashes=hashes if passed else None,
            )
        )
        if getattr(done, "rowcount", 0) != 1:
            raise ChallengeInvalid("this challenge was answered already; ask for a new one")
        subject = s.get(t.Subject, row.subject_id)
        recorded = core.record(
            s,
            Event(
                Kind.LIVENESS_CHALLENGE,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject.pseudonym if subject else None,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    "challenge_id": row.id,
                    "challenge": row.challenge,
                    "act": row.act,
                    "passed": passed,
                    "frames": len(frames),
                    "frames_sha256": hashlib.sha256("".join(hashes).encode()).hexdigest(),
                },
            ),
        )
    return ChallengeAnswer(
        challenge_id=row.id,
        challenge=row.challenge,
        passed=passed,
        reason=reason,
        frames=len(frames),
        expires_at=aware(row.expires_at),
        event_id=recorded[0].event_id,
    )


def _admit(
    core: Core, actor: Actor, deployment_id: str, challenge_id: str
) -> tuple[t.LivenessChallenge, t.Deployment, tuple[str, ...]]:
    """The challenge, if it can still be answered, and the law's answer for its act, asked
    before any frame is decoded."""
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        row = s.get(t.LivenessChallenge, challenge_id) if len(challenge_id) <= 40 else None
        if row is None or row.deployment_id != dep.id:
            raise ChallengeInvalid("there is no such challenge in this deployment")
        if row.status != "issued":
            raise ChallengeInvalid("this challenge was answered already; ask for a new one")
        if aware(row.expires_at) <= now:
            raise ChallengeInvalid("this challenge expired; ask for a new one")
        subject = s.get(t.Subject, row.subject_id)
        act, kind = _ACTS[row.act]
        event = Event(
            kind,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym if subject else None,
            by=actor.principal_id,
            details={"challenge_id": row.id},
        )
        decision = enforce(core, s, dep, act, event, now=now, consent=consent_of(s, subject))
        s.expunge(row)
        s.expunge(dep)
        return row, dep, decision.rule_ids


def _judge(
    core: Core, challenge: Challenge, frames: Sequence[bytes], *, mirrored: bool
) -> tuple[bool, str]:
    """Landmarks of each frame's largest face, judged; a frame without a face fails it."""
    points = 68 if challenge == "blink" else 5
    runs = []
    for number, frame in enumerate(frames, start=1):
        decoded = decode_image(frame, limits=core.settings.recognition)
        faces = find_faces(core.engine, decoded, landmarks=points, limit=1)
        if not faces:
            return False, f"no face was found in frame {number}; stay in front of the camera"
        runs.append(faces[0].landmarks)
    result = judge(challenge, runs, mirrored=mirrored)
    return result.passed, result.reason
