"""The quality gate of enrollment: a face too small, blurred, turned or badly lit is refused
with the reason, so that no bad template is stored (see :mod:`facegate.recognition.quality`
for the measures and how the bounds were chosen).

A refusal is bad input, like a photo without a face: nothing is stored or ledgered, and the
person retakes the photo. The measures of an accepted face go into the enroll event (they
describe the photo, not the person: size, sharpness, pose and light).
"""

from __future__ import annotations

from facegate.config import RecognitionSettings
from facegate.errors import PoorQuality
from facegate.recognition import DecodedImage, FaceBox
from facegate.recognition.faces import face_landmarks
from facegate.recognition.quality import QualityMeasures, QualityPolicy, measure


def policy_for(settings: RecognitionSettings) -> QualityPolicy:
    """The bounds in force: the measured defaults, with the configured smallest face."""
    return QualityPolicy(min_face_px=settings.min_face_px)


def check_quality(
    settings: RecognitionSettings, decoded: DecodedImage, box: FaceBox
) -> QualityMeasures:
    """The measures of the face in ``box``, or :class:`PoorQuality` naming what is wrong."""
    measures = measure(decoded, box, face_landmarks(decoded, box))
    problems = policy_for(settings).problems(measures)
    if problems:
        what = "; ".join(p.split(":")[0] for p in problems)
        raise PoorQuality(f"the photo is not good enough to enroll: {what}", reasons=(*problems,))
    return measures
