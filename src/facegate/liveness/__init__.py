"""Liveness: presentation-attack detection (PAD).

Passive: :class:`PassiveLiveness` judges one photo with Minivision's MiniFASNet models,
shipped in the package with their licence and run by onnxruntime. Importing this package
loads no model, and neither onnx nor onnxruntime.
"""

from facegate.liveness.models import MODEL_VERSION, MODELS, PadModel
from facegate.liveness.passive import DEFAULT_THRESHOLD, LivenessResult, PassiveLiveness

__all__ = [
    "DEFAULT_THRESHOLD",
    "MODELS",
    "MODEL_VERSION",
    "LivenessResult",
    "PadModel",
    "PassiveLiveness",
]
