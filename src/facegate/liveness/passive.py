"""Passive liveness: is the face in one photo a live person or a presentation attack?

:class:`PassiveLiveness` runs the authors' two MiniFASNet models (see :mod:`.models`) on
their crops of the face box, averages the two softmax outputs as the authors do and calls
the face live when the live class wins **and** its averaged probability (the score) reaches
the threshold. The threshold is a deployment's choice; :data:`DEFAULT_THRESHOLD` and the
error rates behind it are in ``bench/pad.py`` and the README.

What it does not do: it sees one still photo, so a good print or a replayed video of the
right size can pass; pair it with the active challenge (:mod:`.active`) where that matters.
It expects a colour camera frame with some of the person's surroundings: on the shared
photos it refused nearly every greyscale scan and most tight face crops
(:attr:`LivenessResult.context`).
The box should come from facegate's own detector (``FaceEngine.detect``): the authors used
a different detector, whose boxes are somewhat larger, so scores near the threshold move
with the box.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from facegate.liveness.convert import INPUT_NAME, PROBS_NAME
from facegate.liveness.models import LIVE_CLASS, MODEL_VERSION, MODELS, PadModel, load_onnx
from facegate.liveness.preprocess import face_crop, fitted_scale

if TYPE_CHECKING:
    import onnxruntime  # type: ignore[import-untyped]

    from facegate.recognition import DecodedImage, FaceBox

__all__ = ["DEFAULT_THRESHOLD", "LivenessResult", "PassiveLiveness", "decide"]

#: the averaged live probability a face needs; chosen on the shared photos (bench/pad.py)
DEFAULT_THRESHOLD: Final = 0.5


@dataclass(frozen=True)
class LivenessResult:
    """The verdict on one face."""

    live: bool
    #: the live class's probability, averaged over the models (0..1)
    score: float
    threshold: float
    model_version: str
    #: how much of the surroundings around the face the photo shows: the share of the
    #: closer crop (2.7 times the face box) that fits in it (1.0: all of it; 0.4: the face
    #: fills so much of the photo that the crop is 40% of the wanted size). On the shared
    #: colour photos 60% of the live faces under 0.5 were refused against 6% above
    #: (bench/pad.py), so a refusal under 0.5 is best explained as "step back".
    context: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "live": self.live,
            "score": round(self.score, 6),
            "threshold": self.threshold,
            "model_version": self.model_version,
            "context": round(self.context, 3),
        }


class PassiveLiveness:
    """Presentation-attack detection on one face of one photo. Safe to share between
    threads; the models are converted and loaded on first use (or :meth:`warm_up`).

    Args:
        threshold: the averaged live probability a face needs, in (0, 1].
        weights_dir: where the ``.pth`` files are; default: the copies in the package.
        intra_op_num_threads: threads for one inference (the models are small: 1 is
            fastest per photo, and leaves the other cores to other requests).
    """

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        weights_dir: Path | str | None = None,
        intra_op_num_threads: int = 1,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if intra_op_num_threads < 1:
            raise ValueError("intra_op_num_threads must be >= 1")
        self.threshold = float(threshold)
        self.model_version = MODEL_VERSION
        self._weights_dir = Path(weights_dir) if weights_dir is not None else None
        self._threads = intra_op_num_threads
        self._sessions: tuple[onnxruntime.InferenceSession, ...] | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Convert and load both models now instead of on the first photo."""
        self._get_sessions()

    def _get_sessions(self) -> tuple[onnxruntime.InferenceSession, ...]:
        sessions = self._sessions
        if sessions is not None:
            return sessions
        with self._lock:
            if self._sessions is None:
                self._sessions = tuple(self._session(m) for m in MODELS)
            return self._sessions

    def _session(self, model: PadModel) -> onnxruntime.InferenceSession:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self._threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(
            load_onnx(model, self._weights_dir),
            sess_options=opts,
            providers=["CPUExecutionProvider"],
        )

    def crops(self, image: DecodedImage, box: FaceBox) -> list[npt.NDArray[np.uint8]]:
        """Each model's input: the BGR crop around ``box``, as the authors make it."""
        edges = _edges(image, box)
        return [face_crop(image.pixels, edges, m.scale, m.size) for m in MODELS]

    def context(self, image: DecodedImage, box: FaceBox) -> float:
        """The largest, over the models, of the crop scale the photo allows divided by
        the scale the model wants (see :attr:`LivenessResult.context`)."""
        edges = _edges(image, box)
        return max(
            fitted_scale(image.width, image.height, edges, m.scale) / m.scale for m in MODELS
        )

    def probabilities(self, image: DecodedImage, box: FaceBox) -> npt.NDArray[np.float32]:
        """Each model's softmax output for the face: models x classes."""
        sessions = self._get_sessions()
        rows = [
            session.run([PROBS_NAME], {INPUT_NAME: crop[np.newaxis]})[0][0]
            for session, crop in zip(sessions, self.crops(image, box), strict=True)
        ]
        return np.asarray(rows, dtype=np.float32)

    def check(self, image: DecodedImage, box: FaceBox) -> LivenessResult:
        """Whether the face in ``box`` (facegate's detector box) is live."""
        return self.judge(self.probabilities(image, box), context=self.context(image, box))

    def judge(
        self, probabilities: npt.NDArray[np.floating[Any]], *, context: float = 1.0
    ) -> LivenessResult:
        """The verdict on the models' outputs (models x classes) at this threshold."""
        live, score = decide(probabilities, self.threshold)
        return LivenessResult(
            live=live,
            score=score,
            threshold=self.threshold,
            model_version=self.model_version,
            context=context,
        )


def _edges(image: DecodedImage, box: FaceBox) -> tuple[int, int, int, int]:
    if image.pixels.ndim != 3 or image.pixels.shape[2] != 3:
        raise ValueError("the image must be H x W x 3 RGB pixels")
    inside = 0 <= box.left < box.right <= image.width and 0 <= box.top < box.bottom <= image.height
    if not inside:
        raise ValueError(f"{box} is not a box inside the {image.width}x{image.height} photo")
    return box.left, box.top, box.right, box.bottom


def decide(probabilities: npt.NDArray[np.floating[Any]], threshold: float) -> tuple[bool, float]:
    """``(live, score)`` for the models' softmax outputs (models x classes): the authors'
    average, whose live class must win and reach ``threshold``."""
    mean = np.asarray(probabilities, dtype=np.float64).mean(axis=0)
    score = float(mean[LIVE_CLASS])
    return int(np.argmax(mean)) == LIVE_CLASS and score >= threshold, score
