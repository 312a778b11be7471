"""The layout of Minivision's MiniFASNet anti-spoofing networks, read off their weights.

MiniFASNet (V1, V2, and the V1SE/V2SE variants with squeeze-and-excitation) is a
MobileFaceNet-like stack for an 80x80 crop:

* ``conv1`` (3x3, stride 2) and ``conv2_dw`` (3x3 depthwise): convolution, batch norm, PReLU;
* ``conv_23``, ``conv_34``, ``conv_45``: bottleneck blocks that halve the resolution;
* ``conv_3``, ``conv_4``, ``conv_5``: runs of residual bottleneck blocks; in the SE
  variants the last block of each run scales its output by a squeeze-and-excitation gate
  before the residual sum;
* a bottleneck block is a 1x1 expansion (conv, BN, PReLU), a 3x3 depthwise convolution
  (conv, BN, PReLU) and a 1x1 projection (conv, BN, no activation);
* ``conv_6_sep`` (1x1, BN, PReLU) and ``conv_6_dw`` (a depthwise convolution as large as
  what is left of the image, BN, no activation) end in a 1x1 feature map of 512 channels;
* the head: flatten, ``linear`` (512 -> 128, no bias), ``bn`` (1-D batch norm), and
  ``prob`` (128 -> classes, no bias); dropout does nothing at inference.

V1 and V2 differ only in channel counts, and the SE variants only in the gates, so the
layout below takes every channel count and group count from the weight shapes and the
gates from the names present; what the names cannot tell (strides and padding) is fixed
here. :func:`describe` also checks that the shapes chain and that every weight is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from facegate.liveness.pth_format import PthFormatError

__all__ = [
    "BN_EPS",
    "Block",
    "ConvUnit",
    "Head",
    "Network",
    "describe",
    "plain_state",
]

#: PyTorch's BatchNorm default; the state dict does not record it
BN_EPS = 1e-5

Weights = Mapping[str, npt.NDArray[np.float32]]

#: (stage, stride, residual run or single block), input side first
_BODY = (
    ("conv_23", 2, False),
    ("conv_3", 1, True),
    ("conv_34", 2, False),
    ("conv_4", 1, True),
    ("conv_45", 2, False),
    ("conv_5", 1, True),
)


@dataclass(frozen=True)
class ConvUnit:
    """Convolution (no bias), batch norm, then PReLU when ``prelu``."""

    prefix: str
    stride: int
    pad: int
    prelu: bool
    groups: int


@dataclass(frozen=True)
class Block:
    """Bottleneck: 1x1 expand, 3x3 depthwise, 1x1 project; optional gate and residual."""

    prefix: str
    expand: ConvUnit
    depthwise: ConvUnit
    project: ConvUnit
    residual: bool
    #: name prefix of the squeeze-and-excitation gate, or None
    se: str | None


@dataclass(frozen=True)
class Head:
    linear: bool  # False when the features go straight to the batch norm (512-d embedding)
    classes: int


@dataclass(frozen=True)
class Network:
    units: tuple[ConvUnit | Block, ...]
    head: Head
    input_size: int


def plain_state(state: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[np.float32]]:
    """Drop DataParallel's ``module.`` prefix and the BN batch counters; float32 only."""
    out: dict[str, npt.NDArray[np.float32]] = {}
    for name, value in state.items():
        key = name.removeprefix("module.")
        if key.endswith(".num_batches_tracked"):
            continue
        if value.dtype.kind != "f":
            raise PthFormatError(f"{name} is {value.dtype}, not a float tensor")
        out[key] = np.asarray(value, dtype=np.float32)
    return out


class _Walker:
    """Follows the channel count and side length through the network, recording names."""

    def __init__(self, weights: Weights, side: int) -> None:
        self.w = weights
        self.channels = 3
        self.side = side
        self.used: set[str] = set()

    def get(self, name: str) -> npt.NDArray[np.float32]:
        if name not in self.w:
            raise PthFormatError(f"the weights lack {name}; not a MiniFASNet")
        self.used.add(name)
        return self.w[name]

    def batch_norm(self, prefix: str, channels: int) -> None:
        for part in ("weight", "bias", "running_mean", "running_var"):
            if self.get(f"{prefix}.{part}").shape != (channels,):
                raise PthFormatError(f"{prefix}.{part} does not have {channels} values")

    def conv(self, prefix: str, stride: int, pad: int | None, *, prelu: bool) -> ConvUnit:
        weight = self.get(f"{prefix}.conv.weight")
        if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
            raise PthFormatError(f"{prefix}.conv.weight is not a square 2-D kernel")
        out, per_group, kernel = weight.shape[0], weight.shape[1], weight.shape[2]
        groups = self.channels // per_group if per_group else 0
        if groups < 1 or groups * per_group != self.channels or out % groups:
            raise PthFormatError(f"{prefix} does not fit {self.channels} input channels")
        pad = kernel // 2 if pad is None else pad
        self.side = (self.side + 2 * pad - kernel) // stride + 1
        if self.side < 1:
            raise PthFormatError(f"{prefix} leaves nothing of the input image")
        self.batch_norm(f"{prefix}.bn", out)
        if prelu and self.get(f"{prefix}.prelu.weight").shape != (out,):
            raise PthFormatError(f"{prefix}.prelu.weight does not have {out} values")
        self.channels = out
        return ConvUnit(prefix, stride, pad, prelu, groups)

    def gate(self, prefix: str) -> str | None:
        gate = f"{prefix}.se_module"
        if f"{gate}.fc1.weight" not in self.w:
            return None
        reduced = self.get(f"{gate}.fc1.weight").shape[0]
        if self.get(f"{gate}.fc1.weight").shape != (reduced, self.channels, 1, 1) or self.get(
            f"{gate}.fc2.weight"
        ).shape != (self.channels, reduced, 1, 1):
            raise PthFormatError(f"{gate} does not fit {self.channels} channels")
        self.batch_norm(f"{gate}.bn1", reduced)
        self.batch_norm(f"{gate}.bn2", self.channels)
        return gate

    def block(self, prefix: str, stride: int, *, residual: bool) -> Block:
        before = (self.channels, self.side)
        expand = self.conv(f"{prefix}.conv", 1, 0, prelu=True)
        depthwise = self.conv(f"{prefix}.conv_dw", stride, None, prelu=True)
        project = self.conv(f"{prefix}.project", 1, 0, prelu=False)
        se = self.gate(prefix)
        if residual and (self.channels, self.side) != before:
            raise PthFormatError(f"{prefix}: the residual sum joins tensors of unequal shapes")
        if se is not None and not residual:
            raise PthFormatError(f"{prefix}: a gate outside a residual block")
        return Block(prefix, expand, depthwise, project, residual, se)

    def head(self) -> Head:
        if self.side != 1:
            raise PthFormatError(f"the features are {self.side}x{self.side}, not 1x1")
        features = self.channels
        linear = "linear.weight" in self.w
        if linear:
            weight = self.get("linear.weight")
            if weight.ndim != 2 or weight.shape[1] != features:
                raise PthFormatError(f"linear.weight does not take {features} features")
            features = weight.shape[0]
        self.batch_norm("bn", features)
        prob = self.get("prob.weight")
        if prob.ndim != 2 or prob.shape[1] != features:
            raise PthFormatError(f"prob.weight does not take {features} features")
        return Head(linear=linear, classes=prob.shape[0])


def describe(weights: Weights, input_size: int) -> Network:
    """The network that ``weights`` (a :func:`plain_state`) belong to, for square crops
    of ``input_size`` pixels; raises :class:`PthFormatError` if they are not a MiniFASNet."""
    walk = _Walker(weights, input_size)
    units: list[ConvUnit | Block] = [
        walk.conv("conv1", 2, 1, prelu=True),
        walk.conv("conv2_dw", 1, 1, prelu=True),
    ]
    for stage, stride, run in _BODY:
        if not run:
            units.append(walk.block(stage, stride, residual=False))
            continue
        count = 0
        while f"{stage}.model.{count}.conv.conv.weight" in weights:
            units.append(walk.block(f"{stage}.model.{count}", stride, residual=True))
            count += 1
        if count == 0:
            raise PthFormatError(f"the weights have no {stage} blocks; not a MiniFASNet")
    units.append(walk.conv("conv_6_sep", 1, 0, prelu=True))
    units.append(walk.conv("conv_6_dw", 1, 0, prelu=False))
    head = walk.head()
    unused = sorted(set(weights) - walk.used)
    if unused:
        raise PthFormatError(f"{len(unused)} weights belong to no known layer, e.g. {unused[0]}")
    return Network(tuple(units), head, input_size)
