"""OnnxBackend: same embeddings as dlib's ResNet, batched, created lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from facegate.recognition.onnx import OnnxBackend, available_cores

from .conftest import DlibFaces, collect_chips, cosine, image_paths

MIN_COSINE = 0.9999


def test_import_loads_no_runtime() -> None:
    code = (
        "import sys, facegate.recognition.onnx as m; "
        "b = m.OnnxBackend(); "
        "print('onnxruntime' in sys.modules, 'onnx' in sys.modules)"
    )
    src = Path(__file__).resolve().parents[3] / "src"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": ""},
    )
    assert out.stdout.split() == ["False", "False"]


def test_construction_is_lazy(tmp_path: Path) -> None:
    backend = OnnxBackend(cache_dir=tmp_path / "cache")
    assert backend.intra_op_num_threads == available_cores()
    assert not (tmp_path / "cache").exists()  # nothing converted yet
    with pytest.raises(ValueError, match="intra_op_num_threads"):
        OnnxBackend(intra_op_num_threads=0)


def test_rejects_bad_chips(backend: OnnxBackend) -> None:
    with pytest.raises(ValueError, match="150"):
        backend.embed_chips(np.zeros((2, 100, 100, 3), dtype=np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        backend.embed_chips(np.zeros((1, 150, 150, 3), dtype=np.float32))


def test_empty_batch(backend: OnnxBackend) -> None:
    out = backend.embed_chips(np.zeros((0, 150, 150, 3), dtype=np.uint8))
    assert out.shape == (0, 128)
    assert out.dtype == np.float32


def test_matches_dlib_on_sample(
    backend: OnnxBackend,
    dlib_faces: DlibFaces,
    sample_chips: tuple[npt.NDArray[np.uint8], list[str]],
) -> None:
    chips, names = sample_chips
    ours = backend.embed_chips(chips)
    assert ours.shape == (len(chips), 128)
    assert ours.dtype == np.float32
    ref = dlib_faces.descriptors(chips)
    cos = cosine(ours, ref)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COSINE, f"{names[worst]}: cosine {cos[worst]}"
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_batching_does_not_change_results(
    model_path: Path, sample_chips: tuple[npt.NDArray[np.uint8], list[str]]
) -> None:
    chips = sample_chips[0][:10]
    single = OnnxBackend(model_path=model_path, max_batch=1, intra_op_num_threads=1)
    batched = OnnxBackend(model_path=model_path, max_batch=4)
    a = np.concatenate([single.embed_chips(c) for c in chips])  # 3-D chip accepted too
    b = batched.embed_chips(chips)
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_matches_dlib_on_every_shared_face(
    backend: OnnxBackend, dlib_faces: DlibFaces, faces_dir: Path
) -> None:
    chips, names = collect_chips(dlib_faces, image_paths(faces_dir))
    assert len(chips) > 800
    cos = cosine(backend.embed_chips(chips), dlib_faces.descriptors(chips))
    worst = int(np.argmin(cos))
    print(f"\n{len(chips)} faces: 1 - cosine max {1 - cos.min():.3e}, mean {1 - cos.mean():.3e}")
    assert cos.min() >= MIN_COSINE, f"{names[worst]}: cosine {cos[worst]}"
