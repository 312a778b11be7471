"""Face recognition: decode uploads safely, find and align faces, embed them.

Nothing heavy happens at import: dlib's models load on first use.
"""

from facegate.recognition.backend import (
    CHIP_PADDING,
    CHIP_SIZE,
    EMBEDDING_DIM,
    DlibBackend,
    EmbeddingBackend,
)
from facegate.recognition.decode import DecodedImage, decode_image
from facegate.recognition.engine import BatchResult, Extraction, FaceBox, FaceEngine
from facegate.recognition.models import MODEL_VERSION
from facegate.recognition.working import WorkingImage, working_copy

__all__ = [
    "CHIP_PADDING",
    "CHIP_SIZE",
    "EMBEDDING_DIM",
    "MODEL_VERSION",
    "BatchResult",
    "DecodedImage",
    "DlibBackend",
    "EmbeddingBackend",
    "Extraction",
    "FaceBox",
    "FaceEngine",
    "WorkingImage",
    "decode_image",
    "working_copy",
]
