"""The dlib stream reader: primitive encodings and the shipped face model's layout."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from facegate.recognition.onnx import DlibFormatError, default_dat_path, parse_network
from facegate.recognition.onnx.dlib_format import Layer, Marker, _Reader


def _int(value: int) -> bytes:
    """dlib's integer encoding, written independently of the reader under test."""
    mag = abs(value)
    body = b""
    while True:
        body += bytes([mag & 0xFF])
        mag >>= 8
        if mag == 0:
            break
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


@pytest.mark.parametrize("value", [0, 1, 2, 127, 255, 256, 4736, -1, -28, 2**40, -(2**62)])
def test_integer_round_trip(value: int) -> None:
    r = _Reader(_int(value))
    assert r.integer() == value
    assert r.at_end()


def test_known_integer_bytes() -> None:
    # as found in the shipped model: 4736 floats in the first conv's params
    assert _Reader(b"\x02\x80\x12").integer() == 4736
    assert _Reader(b"\x81\x1c").integer() == -28


@pytest.mark.parametrize("value", [0.04, 0.6, 122.78199768066406, -3.5, 1e-30])
def test_real(value: float) -> None:
    mantissa, exponent = math.frexp(value)
    m = int(mantissa * 2**53)
    data = _int(m) + _int(exponent - 53)
    assert _Reader(data).real() == pytest.approx(value, rel=1e-15)


def test_real_specials() -> None:
    assert _Reader(_int(0) + _int(32000)).real() == math.inf
    assert _Reader(_int(0) + _int(32001)).real() == -math.inf
    assert math.isnan(_Reader(_int(0) + _int(32002)).real())


def test_string_bool_and_tensor() -> None:
    values = np.arange(6, dtype=np.float32) - 2.5
    data = (
        _int(5)
        + b"relu_"
        + b"10"
        + _int(2)
        + _int(1)
        + _int(2)
        + _int(3)
        + _int(1)
        + struct.pack("<6f", *values)
    )
    r = _Reader(data)
    assert r.string() == "relu_"
    assert r.boolean() is True
    assert r.boolean() is False
    t = r.tensor()
    assert t.shape == (1, 2, 3, 1)
    np.testing.assert_array_equal(t.reshape(-1), values)
    assert r.at_end()


def test_bad_bytes_are_rejected() -> None:
    with pytest.raises(DlibFormatError):
        _Reader(b"\x03\x01").integer()  # truncated
    with pytest.raises(DlibFormatError):
        _Reader(b"\x00").integer()  # zero-length integer
    with pytest.raises(DlibFormatError):
        _Reader(b"x").boolean()
    with pytest.raises(DlibFormatError):
        parse_network(b"\x01\x02\x01\x05hello")


def test_shipped_model_layout() -> None:
    data = default_dat_path().read_bytes()
    net = parse_network(data)
    assert net.loss == "loss_metric_2"
    assert net.input_size == (150, 150)
    assert net.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)
    layers = [x for x in net.stack if isinstance(x, Layer)]
    kinds = [x.kind for x in layers]
    assert kinds.count("con") == 29
    assert kinds.count("affine") == 29
    assert kinds.count("add_prev") == 14
    assert kinds.count("avg_pool") == 5  # 4 downsampling shortcuts + avg_pool_everything
    assert kinds[:4] == ["con", "affine", "relu", "max_pool"]
    assert kinds[-2:] == ["avg_pool", "fc"]
    # a tag1 per residual block, plus tag2 and skip1 in each of the 4 downsampling ones
    assert sum(isinstance(x, Marker) for x in net.stack) == 14 + 2 * 4
    first = layers[0]
    assert first.tensors["weight"].shape == (32, 3, 7, 7)
    assert first.params["stride_y"] == 2
    fc = layers[-1]
    assert fc.tensors["weight"].shape == (256, 128)
    assert "bias" not in fc.tensors
    n_params = sum(t.size for layer in layers for t in layer.tensors.values())
    assert 5_000_000 < n_params < 6_000_000


def test_truncated_model_is_rejected() -> None:
    data = default_dat_path().read_bytes()
    with pytest.raises(DlibFormatError):
        parse_network(data[: len(data) // 2])
    with pytest.raises(DlibFormatError):
        parse_network(data + b"\x00")


def test_tensor_version_1_uses_dlib_floats() -> None:
    data = _int(1) + _int(2) + _int(1) + _int(1) + _int(1)
    data += _int(3) + _int(-1)  # 1.5
    data += _int(-5) + _int(-2)  # -1.25
    t = _Reader(data).tensor()
    np.testing.assert_array_equal(t.reshape(-1), np.array([1.5, -1.25], dtype=np.float32))
