"""Conversion to ONNX and the on-disk cache keyed by the weights' SHA-256."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facegate.recognition.onnx import CONVERTER_VERSION, DlibFormatError, ensure_onnx_model
from facegate.recognition.onnx.convert import INPUT_NAME, OUTPUT_NAME, file_sha256


def test_model_is_valid_onnx(model_path: Path) -> None:
    import onnx

    model = onnx.load(str(model_path))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == [INPUT_NAME]
    assert [o.name for o in model.graph.output] == [OUTPUT_NAME]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value or d.dim_param for d in dims] == ["N", 150, 150, 3]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["converter_version"] == str(CONVERTER_VERSION)
    ops = {n.op_type for n in model.graph.node}
    assert {"Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm"} <= ops


def test_cache_is_keyed_by_sha256_and_reused(tmp_path: Path, model_path: Path) -> None:
    from facegate.recognition.onnx import default_dat_path

    dat = default_dat_path()
    digest = file_sha256(dat)
    path = ensure_onnx_model(dat, tmp_path)
    assert path.parent == tmp_path
    assert digest[:32] in path.name
    assert path.read_bytes() == model_path.read_bytes()  # deterministic conversion
    stamp = path.stat().st_mtime_ns
    assert ensure_onnx_model(dat, tmp_path) == path
    assert path.stat().st_mtime_ns == stamp  # not converted again
    assert not list(tmp_path.glob(".tmp-*"))


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facegate.recognition.onnx import default_cache_dir

    monkeypatch.setenv("FACEGATE_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("FACEGATE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "facegate"


def test_corrupt_weights_file_is_rejected(tmp_path: Path) -> None:
    from facegate.recognition.onnx import default_dat_path

    broken = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    shutil.copyfile(default_dat_path(), broken)
    with broken.open("ab") as fh:
        fh.write(b"\x01")
    cache = tmp_path / "cache"
    with pytest.raises(DlibFormatError):
        ensure_onnx_model(broken, cache)
    assert not cache.exists() or not list(cache.iterdir())  # nothing half-written left
