"""Active liveness: judge a short run of face landmarks for a blink or a head turn.

The web camera page asks the person for one challenge, sends the landmarks of a few frames
(dlib's 68-point iBUG layout, or the 5-point layout facegate's aligner uses), and these
pure functions say whether the frames show it. No image is needed or kept.

* **blink** (68 points only: 5 points have no eyelids): the eye aspect ratio (EAR,
  Soukupová and Čech 2016: the eye's height over its width, averaged over both eyes)
  must go from open, to at most ``closed_ratio`` of that, and back to ``reopen_ratio``.
* **turn_left / turn_right**, in the person's own terms: the nose base's offset along
  the line between the eyes, divided by the eye distance (0 facing the camera), must start
  within ``frontal_max`` of 0 and later reach ``min_turn`` on the asked side. In an
  unmirrored camera frame a person turning to *their* left moves the nose toward the
  image's right; pass ``mirrored=True`` for frames from a mirrored preview.

A run whose face jumps in size or place between two frames (a cut, another face) fails.
A replayed video of someone doing the challenge passes: pair with passive liveness.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["CHALLENGES", "ChallengeResult", "eye_aspect_ratio", "judge", "yaw_ratio"]

Challenge = Literal["blink", "turn_left", "turn_right"]
CHALLENGES: Final[tuple[Challenge, ...]] = ("blink", "turn_left", "turn_right")
Landmarks = Sequence[Sequence[float]] | npt.NDArray[np.floating[Any] | np.integer[Any]]

#: iBUG 68: each eye's six points (outer corner, two upper lid, inner corner, two lower lid)
_EYES_68 = ((36, 37, 38, 39, 40, 41), (42, 43, 44, 45, 46, 47))
#: (image-left eye corners, image-right eye corners, nose base) in each layout
_GEOMETRY = {68: ((36, 39), (42, 45), 33), 5: ((2, 3), (0, 1), 4)}
_MAX_FRAMES = 300


@dataclass(frozen=True)
class ChallengeResult:
    passed: bool
    challenge: Challenge
    #: for the person: what was seen, or what to do next
    reason: str
    frames: int
    #: the per-frame measure (EAR for a blink, the signed turn for a turn)
    values: tuple[float, ...]


def _points(frame: Landmarks) -> npt.NDArray[np.float64]:
    pts = np.asarray(frame, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] not in _GEOMETRY:
        raise ValueError(f"each frame needs 68 or 5 (x, y) landmarks, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("landmarks must be finite numbers")
    return pts


def _eyes(pts: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
    left, right, _ = _GEOMETRY[pts.shape[0]]
    return pts[list(left)].mean(axis=0), pts[list(right)].mean(axis=0)


def eye_aspect_ratio(frame: Landmarks) -> float:
    """Both eyes' mean height-to-width ratio (68-point landmarks)."""
    pts = _points(frame)
    if pts.shape[0] != 68:
        raise ValueError("a blink needs the 68-point landmarks; 5 points have no eyelids")
    ratios: list[float] = []
    for p1, p2, p3, p4, p5, p6 in _EYES_68:
        width = float(np.linalg.norm(pts[p1] - pts[p4]))
        height = float(np.linalg.norm(pts[p2] - pts[p6]) + np.linalg.norm(pts[p3] - pts[p5]))
        ratios.append(height / (2 * width) if width > 0 else 0.0)
    return float(np.mean(ratios))


def yaw_ratio(frame: Landmarks, *, mirrored: bool = False) -> float:
    """How far the head is turned: > 0 toward the person's left, < 0 toward their right,
    in eye distances (about 0.3 is a clear turn)."""
    pts = _points(frame)
    left_eye, right_eye = _eyes(pts)
    axis = right_eye - left_eye
    span = float(np.linalg.norm(axis))
    if span == 0:
        raise ValueError("the two eyes are at the same place")
    nose = pts[_GEOMETRY[pts.shape[0]][2]]
    # the offset along the eye line stays right when the head is tilted (rolled)
    offset = float(np.dot(nose - (left_eye + right_eye) / 2, axis / span)) / span
    return -offset if mirrored else offset


def _jump(frames: Sequence[npt.NDArray[np.float64]]) -> bool:
    """Whether the face changes size or place too much between two frames."""
    for a, b in itertools.pairwise(frames):
        (la, ra), (lb, rb) = _eyes(a), _eyes(b)
        span_a, span_b = float(np.linalg.norm(ra - la)), float(np.linalg.norm(rb - lb))
        moved = float(np.linalg.norm((la + ra) / 2 - (lb + rb) / 2))
        if not 2 / 3 <= span_b / max(span_a, 1e-9) <= 3 / 2 or moved > span_a:
            return True
    return False


def _blink(ears: list[float], open_min: float, closed_ratio: float, reopen_ratio: float) -> str:
    baseline, closed = -math.inf, False
    for ear in ears:
        if not closed:
            if ear >= open_min:
                baseline = max(baseline, ear)
            elif ear <= closed_ratio * baseline:
                closed = True
        elif ear >= reopen_ratio * baseline:
            return ""
    if baseline == -math.inf:
        return "the eyes were never seen open; face the camera in good light"
    return "no blink was seen; blink once, clearly" if not closed else "the eyes did not reopen"


def _turn(yaws: list[float], frontal_max: float, min_turn: float) -> str:
    start = next((i for i, y in enumerate(yaws) if abs(y) <= frontal_max), None)
    if start is None:
        return "start by facing the camera"
    if max(yaws[start:]) >= min_turn:
        return ""
    return "turn your head further"


def judge(
    challenge: Challenge,
    frames: Sequence[Landmarks],
    *,
    mirrored: bool = False,
    open_min: float = 0.2,
    closed_ratio: float = 0.6,
    reopen_ratio: float = 0.75,
    frontal_max: float = 0.1,
    min_turn: float = 0.25,
) -> ChallengeResult:
    """Whether ``frames`` (landmarks in time order) show ``challenge``."""
    if challenge not in CHALLENGES:
        raise ValueError(f"unknown challenge {challenge!r}; one of {', '.join(CHALLENGES)}")
    if not 2 <= len(frames) <= _MAX_FRAMES:
        raise ValueError(f"a challenge needs 2 to {_MAX_FRAMES} frames, got {len(frames)}")
    pts = [_points(f) for f in frames]
    if len({p.shape[0] for p in pts}) != 1:
        raise ValueError("every frame must use the same landmark layout")
    if challenge == "blink":
        values = [eye_aspect_ratio(p) for p in pts]
        reason = _blink(values, open_min, closed_ratio, reopen_ratio)
    else:
        sign = 1.0 if challenge == "turn_left" else -1.0
        values = [sign * yaw_ratio(p, mirrored=mirrored) for p in pts]
        reason = _turn(values, frontal_max, min_turn)
    if not reason and _jump(pts):
        reason = "the face moved or changed between frames; hold still and retry"
    return ChallengeResult(
        passed=not reason,
        challenge=challenge,
        reason=reason or f"{challenge.replace('_', ' ')} seen",
        frames=len(pts),
        values=tuple(values),
    )
