"""Liveness inside enroll and verify: the passive check of the photo, and the single use of
a passed active challenge.

Both run after the law was asked (a refused act never reaches them) and before anything is
stored or compared. A photo that fails the passive check is refused with advice the person
can act on (:class:`~facegate.errors.NotLive`) and the refusal is ledgered with the photo's
SHA-256 and the score, never a face crop or an embedding. The score is not shown to the
caller: a score would let someone tune a printed or replayed face until it passes.

Active challenges (:mod:`facegate.flows.challenges`) are bound to one person, one act and
the frames the camera sent; enroll or verify uses a passed one once, before its expiry, and
only with a photo that is one of those frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from sqlalchemy import update

from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.errors import ChallengeInvalid, NotLive
from facegate.ledger.events import Event, Kind
from facegate.liveness import LivenessResult
from facegate.recognition import DecodedImage, FaceBox
from facegate.storage import tables as t

#: below this share of the wanted surroundings, a refusal is best explained as "step back"
#: (on the shared colour photos 60% of live faces under 0.5 were refused, 6% above: the
#: figures behind ``LivenessResult.context``)
STEP_BACK_CONTEXT = 0.5


def advice_for(result: LivenessResult) -> str:
    """What the person should do differently, from what the check saw."""
    if result.context < STEP_BACK_CONTEXT:
        return (
            "Step back so that your whole face and some of the room around it are in view,\n"
            "look at the camera in even light, and retake the photo."
        )
    return (
        "Look straight at the camera in even light, with nothing in front of your face,\n"
        "and retake the photo. A photo of a photo or of a screen is refused."
    )


def check_passive(
    core: Core,
    actor: Actor,
    dep: t.Deployment,
    decoded: DecodedImage,
    box: FaceBox,
    *,
    act: Kind,
    subject: str | None,
) -> LivenessResult | None:
    """On a deployment that asks for liveness: the verdict on the face in ``box``, or a
    ledgered refusal. None where the deployment does not ask."""
    if not dep.liveness:
        return None
    try:
        result = core.liveness.check(decoded, box)
    except ValueError:  # an empty box at the photo's edge: nothing to judge, not live
        result = LivenessResult(False, 0.0, core.liveness.threshold, core.liveness.model_version)
    if result.live:
        return result
    details: Mapping[str, object] = {
        "act": str(act),
        "input_sha256": decoded.sha256,
        "score": round(result.score, 6),
        "threshold": result.threshold,
        "context": round(result.context, 3),
        "model_version": result.model_version,
    }
    with core.db.transaction() as s:
        core.record(
            s,
            Event(
                Kind.LIVENESS_FAILED,
                core.clock(),
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject,
                by=actor.principal_id,
                details=details,
            ),
        )
    raise NotLive("the photo did not pass the liveness check", advice=advice_for(result))


def liveness_details(live: LivenessResult | None, challenge_id: str | None) -> dict[str, object]:
    """What the act's ledger event says about its liveness checks (scores, not faces)."""
    out: dict[str, object] = {}
    if live is not None:
        out["liveness"] = {
            "score": round(live.score, 6),
            "threshold": live.threshold,
            "model_version": live.model_version,
        }
    if challenge_id is not None:
        out["challenge_id"] = challenge_id
    return out


def use_challenge(
    core: Core,
    dep: t.Deployment,
    subject_id: str,
    challenge_id: str | None,
    *,
    act: Literal["enroll", "verify"],
    image_sha256: str,
) -> str | None:
    """Spend a passed challenge on this act (at most once). Required where the deployment
    asks for one; checked and spent whenever one is given. Returns its id."""
    if challenge_id is None:
        if dep.liveness_challenge:
            raise ChallengeInvalid(
                "this deployment needs a passed liveness challenge with every "
                f"{'enrollment' if act == 'enroll' else 'verification'}"
            )
        return None
    now = core.clock()
    with core.db.transaction() as s:
        row = s.get(t.LivenessChallenge, challenge_id) if len(challenge_id) <= 40 else None
        problem = _unusable(row, dep.id, subject_id, act, image_sha256, now=now)
        if problem:
            raise ChallengeInvalid(f"the liveness challenge cannot be used: {problem}")
        spent = s.execute(
            update(t.LivenessChallenge)
            .where(t.LivenessChallenge.id == challenge_id, t.LivenessChallenge.status == "passed")
            .values(status="used")
        )
        if getattr(spent, "rowcount", 0) != 1:  # another request spent it meanwhile
            raise ChallengeInvalid("the liveness challenge cannot be used: it was already used")
    return challenge_id


def _unusable(
    row: t.LivenessChallenge | None,
    deployment_id: str,
    subject_id: str,
    act: str,
    image_sha256: str,
    *,
    now: datetime,
) -> str:
    if row is None or row.deployment_id != deployment_id:
        return "there is no such challenge in this deployment"
    if row.subject_id != subject_id or row.act != act:
        return f"it was issued for another person or act ({row.act})"
    if row.status == "used":
        return "it was already used"
    if row.status != "passed":
        return "it was not passed" if row.status == "failed" else "it was not answered yet"
    if aware(row.expires_at) <= now:
        return "it expired"
    if image_sha256 not in (row.frame_hashes or []):
        return "the photo is not one of the frames sent for it (send one of those frames)"
    return ""
