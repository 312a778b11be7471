"""An independent MiniFASNet forward pass in plain numpy (float64), for tests only.

Written from the network's published module structure, not from facegate's converter: it
keeps every batch norm apart (no folding), runs convolutions as explicit patch sums and
finds the blocks by walking the weight names itself. The ONNX model must give the same
numbers; a mistake in either shows as a difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
EPS = 1e-5


class Reference:
    def __init__(self, state: Mapping[str, npt.NDArray[Any]]) -> None:
        self.p = {
            k.removeprefix("module."): np.asarray(v, dtype=np.float64) for k, v in state.items()
        }

    # --- layers -------------------------------------------------------------------------

    def conv(self, x: F64, name: str, stride: int, pad: int) -> F64:
        """Grouped 2-D convolution of N x C x H x W maps, no bias."""
        w = self.p[name]
        out_c, per_group, k, _ = w.shape
        n, channels = x.shape[:2]
        groups = channels // per_group
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        oh = (xp.shape[2] - k) // stride + 1
        ow = (xp.shape[3] - k) // stride + 1
        per_out = out_c // groups
        xs = xp.reshape(n, groups, per_group, *xp.shape[2:])
        ws = w.reshape(groups, per_out, per_group, k, k)
        out = np.zeros((n, groups, per_out, oh * ow))
        # one shifted copy of the input per kernel tap, summed: a convolution by definition
        for i in range(k):
            for j in range(k):
                patch = xs[:, :, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
                out += ws[None, :, :, :, i, j] @ patch.reshape(n, groups, per_group, oh * ow)
        return out.reshape(n, out_c, oh, ow)

    def bn(self, x: F64, name: str) -> F64:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = self.p[f"{name}.running_mean"].reshape(shape)
        var = self.p[f"{name}.running_var"].reshape(shape)
        gamma = self.p[f"{name}.weight"].reshape(shape)
        beta = self.p[f"{name}.bias"].reshape(shape)
        return (x - mean) / np.sqrt(var + EPS) * gamma + beta

    def prelu(self, x: F64, name: str) -> F64:
        a = self.p[name].reshape(1, -1, 1, 1)
        return np.where(x >= 0, x, a * x)

    def conv_block(self, x: F64, name: str, stride: int, pad: int, act: bool = True) -> F64:
        y = self.bn(self.conv(x, f"{name}.conv.weight", stride, pad), f"{name}.bn")
        return self.prelu(y, f"{name}.prelu.weight") if act else y

    def se(self, x: F64, name: str) -> F64:
        s = x.mean(axis=(2, 3), keepdims=True)
        s = np.maximum(self.bn(self.conv(s, f"{name}.fc1.weight", 1, 0), f"{name}.bn1"), 0.0)
        s = self.bn(self.conv(s, f"{name}.fc2.weight", 1, 0), f"{name}.bn2")
        return x * (1.0 / (1.0 + np.exp(-s)))

    def depth_wise(self, x: F64, name: str, stride: int, residual: bool) -> F64:
        y = self.conv_block(x, f"{name}.conv", 1, 0)
        y = self.conv_block(y, f"{name}.conv_dw", stride, 1)
        y = self.conv_block(y, f"{name}.project", 1, 0, act=False)
        if f"{name}.se_module.fc1.weight" in self.p:
            y = self.se(y, f"{name}.se_module")
        return x + y if residual else y

    def residual(self, x: F64, name: str) -> F64:
        i = 0
        while f"{name}.model.{i}.conv.conv.weight" in self.p:
            x = self.depth_wise(x, f"{name}.model.{i}", 1, True)
            i += 1
        assert i > 0, name
        return x

    # --- the network ----------------------------------------------------------------------

    def logits(self, crops_bgr: npt.NDArray[np.uint8]) -> F64:
        """N x H x W x 3 uint8 BGR crops -> N x classes logits."""
        x = crops_bgr.astype(np.float64).transpose(0, 3, 1, 2)
        x = self.conv_block(x, "conv1", 2, 1)
        x = self.conv_block(x, "conv2_dw", 1, 1)
        x = self.depth_wise(x, "conv_23", 2, False)
        x = self.residual(x, "conv_3")
        x = self.depth_wise(x, "conv_34", 2, False)
        x = self.residual(x, "conv_4")
        x = self.depth_wise(x, "conv_45", 2, False)
        x = self.residual(x, "conv_5")
        x = self.conv_block(x, "conv_6_sep", 1, 0)
        x = self.conv_block(x, "conv_6_dw", 1, 0, act=False)
        v = x.reshape(x.shape[0], -1)
        if "linear.weight" in self.p:
            v = v @ self.p["linear.weight"].T
        v = self.bn(v, "bn")
        return v @ self.p["prob.weight"].T

    def probs(self, crops_bgr: npt.NDArray[np.uint8]) -> F64:
        z = self.logits(crops_bgr)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
