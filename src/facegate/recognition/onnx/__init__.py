"""dlib's face-embedding ResNet converted to ONNX and run by onnxruntime.

Importing this package loads neither onnx nor onnxruntime; they are imported when a
model is first converted or a session first created.
"""

from facegate.recognition.onnx.backend import (
    CHIP_SIZE,
    EMBEDDING_DIM,
    OnnxBackend,
    available_cores,
)
from facegate.recognition.onnx.convert import (
    CONVERTER_VERSION,
    build_onnx_model,
    convert_dat,
    default_cache_dir,
    default_dat_path,
    ensure_onnx_model,
)
from facegate.recognition.onnx.dlib_format import DlibFormatError, parse_network

__all__ = [
    "CHIP_SIZE",
    "CONVERTER_VERSION",
    "EMBEDDING_DIM",
    "DlibFormatError",
    "OnnxBackend",
    "available_cores",
    "build_onnx_model",
    "convert_dat",
    "default_cache_dir",
    "default_dat_path",
    "ensure_onnx_model",
    "parse_network",
]
