"""Convert dlib's ResNet face-embedding network to an ONNX model, locally.

The weights come from the ``.dat`` file shipped by ``face_recognition_models``; nothing
is downloaded.  The converted model is cached under a directory of the caller's choice
(default: ``$FACEGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/facegate``, else
``~/.cache/facegate``), keyed by the SHA-256 of the ``.dat`` file and the converter
version, so a changed weights file or converter never reuses a stale model.

The ONNX graph takes ``chips``: uint8, N x 150 x 150 x 3, RGB, as made by
``dlib.get_face_chip(img, shape, size=150, padding=0.25)``, and returns
``embeddings``: float32, N x 128, the same numbers as dlib's
``face_recognition_model_v1.compute_face_descriptor(chip)``.  Inside, it does dlib's
input step ((pixel - channel mean) / 256, NCHW float32) and then the network layer by
layer: Conv, Mul+Add for dlib's ``affine`` (batch-norm folded at training time), Relu,
MaxPool, AveragePool, Add with zero padding where dlib's ``add_prev`` meets tensors of
unequal shapes, GlobalAveragePool and a bias-free Gemm.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.recognition.onnx.dlib_format import (
    DlibFormatError,
    Layer,
    Marker,
    ParsedNetwork,
    parse_network,
)

__all__ = [
    "CONVERTER_VERSION",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "build_onnx_model",
    "convert_dat",
    "default_cache_dir",
    "default_dat_path",
    "ensure_onnx_model",
    "file_sha256",
]

#: Bump whenever the produced graph changes; it is part of the cache key.
CONVERTER_VERSION = 1
INPUT_NAME = "chips"
OUTPUT_NAME = "embeddings"
OPSET = 17


def default_dat_path() -> Path:
    """The ResNet weights file shipped in the ``face_recognition_models`` package."""
    import face_recognition_models

    return Path(face_recognition_models.face_recognition_model_location())


def default_cache_dir() -> Path:
    env = os.environ.get("FACEGATE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "facegate"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------
# Graph building


@dataclass
class _Value:
    name: str
    shape: tuple[int, int, int]  # C, H, W (batch left out)


class _GraphBuilder:
    def __init__(self) -> None:
        import onnx

        self._onnx = onnx
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, array: npt.NDArray[np.generic]) -> str:
        name = self.fresh(stem)
        self.initializers.append(self._onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        out = self.fresh(stem)
        self.nodes.append(self._onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _out_size(size: int, window: int, stride: int, pad: int) -> int:
    # dlib's (and ONNX's floor-mode) output size for conv and pooling
    return 1 + (size + 2 * pad - window) // stride


def _conv(g: _GraphBuilder, x: _Value, layer: Layer) -> _Value:
    p = layer.params
    c, h, w = x.shape
    if p["in_channels"] != c:
        raise DlibFormatError(f"con_ expects {p['in_channels']} channels, gets {c}")
    weight = g.const("conv_w", layer.tensors["weight"].astype(np.float32))
    bias = g.const("conv_b", layer.tensors["bias"].astype(np.float32))
    y = g.node(
        "Conv",
        [x.name, weight, bias],
        "conv",
        kernel_shape=[p["nr"], p["nc"]],
        strides=[p["stride_y"], p["stride_x"]],
        pads=[p["pad_y"], p["pad_x"], p["pad_y"], p["pad_x"]],
    )
    return _Value(
        y,
        (
            p["num_filters"],
            _out_size(h, p["nr"], p["stride_y"], p["pad_y"]),
            _out_size(w, p["nc"], p["stride_x"], p["pad_x"]),
        ),
    )


def _affine(g: _GraphBuilder, x: _Value, layer: Layer) -> _Value:
    c = x.shape[0]
    if layer.params["mode"] != 0 or layer.params["channels"] != c:
        raise DlibFormatError("only per-channel (CONV_MODE) affine layers are supported")
    gamma = g.const("affine_g", layer.tensors["gamma"].reshape(1, c, 1, 1).astype(np.float32))
    beta = g.const("affine_b", layer.tensors["beta"].reshape(1, c, 1, 1).astype(np.float32))
    y = g.node("Mul", [x.name, gamma], "affine_mul")
    y = g.node("Add", [y, beta], "affine_add")
    return _Value(y, x.shape)


def _pool(g: _GraphBuilder, x: _Value, layer: Layer) -> _Value:
    p = layer.params
    c, h, w = x.shape
    if p["nr"] == 0 and p["nc"] == 0:  # dlib's *_pool_everything
        op = "GlobalAveragePool" if layer.kind == "avg_pool" else "GlobalMaxPool"
        return _Value(g.node(op, [x.name], "gpool"), (c, 1, 1))
    if p["pad_y"] or p["pad_x"]:
        # dlib's average pooling leaves padding out of the mean, and so would ONNX
        # (count_include_pad=0), but no layer of the face network pads; keep it exact.
        raise DlibFormatError("padded pooling is not supported")
    op = "AveragePool" if layer.kind == "avg_pool" else "MaxPool"
    y = g.node(
        op,
        [x.name],
        "pool",
        kernel_shape=[p["nr"], p["nc"]],
        strides=[p["stride_y"], p["stride_x"]],
    )
    return _Value(
        y,
        (
            c,
            _out_size(h, p["nr"], p["stride_y"], 0),
            _out_size(w, p["nc"], p["stride_x"], 0),
        ),
    )


def _pad_to(g: _GraphBuilder, x: _Value, shape: tuple[int, int, int]) -> str:
    if x.shape == shape:
        return x.name
    extra = [t - s for s, t in zip(x.shape, shape, strict=True)]
    pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)
    return g.node("Pad", [x.name, g.const("pads", pads)], "pad", mode="constant")


def _add_prev(g: _GraphBuilder, x: _Value, other: _Value) -> _Value:
    # dlib's add_prev gives a tensor of the larger of each dimension, treating the
    # missing part of the smaller operand as zeros.
    shape = (
        max(x.shape[0], other.shape[0]),
        max(x.shape[1], other.shape[1]),
        max(x.shape[2], other.shape[2]),
    )
    a = _pad_to(g, x, shape)
    b = _pad_to(g, other, shape)
    return _Value(g.node("Add", [a, b], "add"), shape)


def _resolve_stack(stack: list[Layer | Marker]) -> list[tuple[str, Layer | None]]:
    """Give each anonymous tag/skip marker its role.

    dlib's face network (``dnn_face_recognition_ex.cpp``) uses two residual shapes:

    * ``add_prev1<block<tag1<x>>>``: one marker (``tag1``) before the block;
    * ``add_prev2<avg_pool<skip1<tag2<block<tag1<x>>>>>>``: ``tag1`` before the
      block, then two markers (``tag2`` of the block output, ``skip1`` back to x).

    So a lone marker is ``tag1``, a pair is ``tag2`` then ``skip1``, and an
    ``add_prev`` adds the tag set by the latest run of markers.
    """
    ops: list[tuple[str, Layer | None]] = []
    i = 0
    while i < len(stack):
        item = stack[i]
        if isinstance(item, Marker):
            run = 1
            while i + run < len(stack) and isinstance(stack[i + run], Marker):
                run += 1
            if run == 1:
                ops.append(("tag1", None))
            elif run == 2:
                ops.append(("tag2", None))
                ops.append(("skip1", None))
            else:
                raise DlibFormatError(f"unexpected run of {run} tag/skip layers")
            i += run
        else:
            ops.append((item.kind, item))
            i += 1
    return ops


def _emit_layers(g: _GraphBuilder, cur: _Value, stack: list[Layer | Marker]) -> _Value:
    """Add the network's layers on top of ``cur``; returns the fc layer's output."""
    tags: dict[str, _Value] = {}
    last_tag = "tag1"
    flat = False
    for op, layer in _resolve_stack(stack):
        if op in ("tag1", "tag2"):
            tags[op] = cur
            last_tag = op
            continue
        if op == "skip1":
            cur = tags["tag1"]
            continue
        assert layer is not None
        if flat and op != "fc":
            raise DlibFormatError(f"layer {op} after the fully connected layer")
        if op == "con":
            cur = _conv(g, cur, layer)
        elif op == "affine":
            cur = _affine(g, cur, layer)
        elif op == "relu":
            cur = _Value(g.node("Relu", [cur.name], "relu"), cur.shape)
        elif op in ("max_pool", "avg_pool"):
            cur = _pool(g, cur, layer)
        elif op == "add_prev":
            if last_tag not in tags:
                raise DlibFormatError("add_prev without a tag below it")
            cur = _add_prev(g, cur, tags[last_tag])
        elif op == "fc":
            p = layer.params
            if p["num_inputs"] != cur.shape[0] * cur.shape[1] * cur.shape[2]:
                raise DlibFormatError("fc_ input size does not match the network")
            y = g.node("Flatten", [cur.name], "flatten", axis=1)
            inputs = [y, g.const("fc_w", layer.tensors["weight"].astype(np.float32))]
            if "bias" in layer.tensors:
                inputs.append(g.const("fc_b", layer.tensors["bias"].astype(np.float32)))
            y = g.node("Gemm", inputs, "fc")
            cur = _Value(y, (p["num_outputs"], 1, 1))
            flat = True
        else:
            raise DlibFormatError(f"unsupported layer {op}")
    if not flat:
        raise DlibFormatError("network does not end in a fully connected layer")
    return cur


def build_onnx_model(net: ParsedNetwork, *, source_sha256: str = "") -> bytes:
    """Build the ONNX model for a parsed network and return it serialized."""
    import onnx
    from onnx import TensorProto, helper

    if net.loss not in ("loss_metric_", "loss_metric_2"):
        raise DlibFormatError(f"unsupported loss {net.loss!r}")
    rows, cols = net.input_size
    g = _GraphBuilder()

    # dlib input_rgb_image_sized: (pixel - mean) / 256, planar RGB.
    x = g.node("Cast", [INPUT_NAME], "cast", to=TensorProto.FLOAT)
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    mean = np.array(net.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
    x = g.node("Sub", [x, g.const("mean", mean)], "center")
    x = g.node("Mul", [x, g.const("scale", np.array(1.0 / 256.0, dtype=np.float32))], "scale")
    cur = _Value(x, (3, rows, cols))

    cur = _emit_layers(g, cur, net.stack)

    g.nodes.append(helper.make_node("Identity", [cur.name], [OUTPUT_NAME], name="output"))
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["N", rows, cols, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", cur.shape[0]])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="facegate",
        producer_version=str(CONVERTER_VERSION),
    )
    model.ir_version = 8  # readable by any onnxruntime >= 1.14
    helper.set_model_props(
        model,
        {
            "source": "dlib_face_recognition_resnet_model_v1.dat",
            "source_sha256": source_sha256,
            "converter_version": str(CONVERTER_VERSION),
        },
    )
    onnx.checker.check_model(model, full_check=True)
    return bytes(model.SerializeToString())


def convert_dat(dat_path: Path) -> bytes:
    """Parse ``dat_path`` and return the serialized ONNX model."""
    data = dat_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    return build_onnx_model(parse_network(data), source_sha256=digest)


def ensure_onnx_model(
    dat_path: Path | None = None,
    cache_dir: Path | None = None,
) -> Path:
    """Return the path of the converted model, converting and caching it if needed."""
    dat = Path(dat_path) if dat_path is not None else default_dat_path()
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = file_sha256(dat)
    target = cache / f"{dat.stem}-{digest[:32]}-c{CONVERTER_VERSION}.onnx"
    if target.is_file():
        return target
    model = convert_dat(dat)
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)  # in the home: owner only
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-", suffix=".onnx")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(model)
        os.replace(tmp, target)  # atomic: concurrent converters never see half a file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
