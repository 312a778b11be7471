"""Convert MiniFASNet weights (legacy ``.pth``) to an ONNX model, without PyTorch.

The graph takes ``crops``: uint8, N x S x S x 3, **BGR**, the face crop as the authors'
code makes it with OpenCV (S = 80 for the shipped models), and returns ``logits`` and
``probs`` (their softmax), float32, N x classes; class 1 is "live". Inside: cast to float
with no scaling or mean (the authors feed the network raw 0..255 values, which is what its
first batch norm was trained on), NCHW, then the layers of :mod:`.architecture`.

Every batch norm is folded into the convolution or linear layer before it (in float64,
then rounded to float32), so the graph holds only Conv, PRelu, Relu, Sigmoid,
GlobalAveragePool, Mul, Add, Flatten, Gemm and Softmax. The tests check the result against
a plain-numpy forward pass that keeps every batch norm apart.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.liveness.architecture import (
    BN_EPS,
    Block,
    ConvUnit,
    Network,
    Weights,
    describe,
    plain_state,
)
from facegate.liveness.pth_format import read_state_dict

__all__ = [
    "CONVERTER_VERSION",
    "INPUT_NAME",
    "LOGITS_NAME",
    "PROBS_NAME",
    "build_onnx_model",
    "convert_pth",
]

#: bump whenever the produced graph changes; it is part of the model version
CONVERTER_VERSION = 1
INPUT_NAME = "crops"
LOGITS_NAME = "logits"
PROBS_NAME = "probs"
OPSET = 17


class _Graph:
    def __init__(self, weights: Weights) -> None:
        import onnx

        self._onnx = onnx
        self.w = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, array: npt.NDArray[Any]) -> str:
        name = self._fresh(stem)
        data = np.ascontiguousarray(array, dtype=np.float32)
        self.initializers.append(self._onnx.numpy_helper.from_array(data, name))
        return name

    def node(self, op: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        out = self._fresh(stem)
        self.nodes.append(self._onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def bn_fold(self, prefix: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """``(scale, shift)`` with ``bn(x) == x * scale + shift``."""
        gamma = self.w[f"{prefix}.weight"].astype(np.float64)
        beta = self.w[f"{prefix}.bias"].astype(np.float64)
        mean = self.w[f"{prefix}.running_mean"].astype(np.float64)
        var = self.w[f"{prefix}.running_var"].astype(np.float64)
        scale = gamma / np.sqrt(var + BN_EPS)
        return scale, beta - mean * scale

    def conv_bn(self, x: str, weight: str, bn: str, **attrs: Any) -> str:
        """A bias-free convolution followed by batch norm ``bn``, as one Conv."""
        scale, shift = self.bn_fold(bn)
        kernel = self.w[weight].astype(np.float64) * scale[:, None, None, None]
        ins = [x, self.const("w", kernel), self.const("b", shift)]
        return self.node("Conv", ins, "conv", **attrs)


def _unit(g: _Graph, x: str, unit: ConvUnit) -> str:
    k = int(g.w[f"{unit.prefix}.conv.weight"].shape[2])
    y = g.conv_bn(
        x,
        f"{unit.prefix}.conv.weight",
        f"{unit.prefix}.bn",
        kernel_shape=[k, k],
        strides=[unit.stride, unit.stride],
        pads=[unit.pad] * 4,
        group=unit.groups,
    )
    if unit.prelu:
        slope = g.w[f"{unit.prefix}.prelu.weight"].reshape(-1, 1, 1)
        y = g.node("PRelu", [y, g.const("slope", slope)], "prelu")
    return y


def _gate(g: _Graph, x: str, prefix: str) -> str:
    squeezed = g.node("GlobalAveragePool", [x], "squeeze")
    h = g.conv_bn(squeezed, f"{prefix}.fc1.weight", f"{prefix}.bn1", kernel_shape=[1, 1])
    h = g.node("Relu", [h], "relu")
    h = g.conv_bn(h, f"{prefix}.fc2.weight", f"{prefix}.bn2", kernel_shape=[1, 1])
    h = g.node("Sigmoid", [h], "sigmoid")
    return g.node("Mul", [x, h], "excite")


def _block(g: _Graph, x: str, block: Block) -> str:
    y = _unit(g, x, block.expand)
    y = _unit(g, y, block.depthwise)
    y = _unit(g, y, block.project)
    if block.se is not None:
        y = _gate(g, y, block.se)
    return g.node("Add", [x, y], "residual") if block.residual else y


def _head(g: _Graph, x: str, net: Network) -> str:
    y = g.node("Flatten", [x], "flatten", axis=1)
    scale, shift = g.bn_fold("bn")
    if net.head.linear:
        weight = g.w["linear.weight"].astype(np.float64) * scale[:, None]
        y = g.node("Gemm", [y, g.const("fc_w", weight), g.const("fc_b", shift)], "fc", transB=1)
    else:
        y = g.node("Mul", [y, g.const("bn_scale", scale)], "bn_mul")
        y = g.node("Add", [y, g.const("bn_shift", shift)], "bn_add")
    return g.node("Gemm", [y, g.const("prob_w", g.w["prob.weight"])], "prob", transB=1)


def build_onnx_model(
    state: Weights, *, input_size: int, name: str = "minifasnet", source_sha256: str = ""
) -> bytes:
    """The serialized ONNX model for a MiniFASNet state dict (``module.`` prefix allowed)."""
    import onnx
    from onnx import TensorProto, helper

    weights = plain_state(state)
    net = describe(weights, input_size)
    g = _Graph(weights)
    x = g.node("Cast", [INPUT_NAME], "cast", to=TensorProto.FLOAT)
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    for unit in net.units:
        x = _block(g, x, unit) if isinstance(unit, Block) else _unit(g, x, unit)
    logits = _head(g, x, net)
    g.nodes.append(helper.make_node("Identity", [logits], [LOGITS_NAME], name="logits"))
    g.nodes.append(helper.make_node("Softmax", [logits], [PROBS_NAME], name="softmax", axis=1))
    size, classes = net.input_size, net.head.classes
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, ["N", size, size, 3])],
        [
            helper.make_tensor_value_info(LOGITS_NAME, TensorProto.FLOAT, ["N", classes]),
            helper.make_tensor_value_info(PROBS_NAME, TensorProto.FLOAT, ["N", classes]),
        ],
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
            "source": name,
            "source_sha256": source_sha256,
            "converter_version": str(CONVERTER_VERSION),
        },
    )
    onnx.checker.check_model(model, full_check=True)
    return bytes(model.SerializeToString())


def convert_pth(data: bytes, *, input_size: int, name: str = "minifasnet") -> bytes:
    """Parse a legacy MiniFASNet ``.pth`` file's bytes and return the serialized ONNX model."""
    digest = hashlib.sha256(data).hexdigest()
    return build_onnx_model(
        read_state_dict(data), input_size=input_size, name=name, source_sha256=digest
    )
