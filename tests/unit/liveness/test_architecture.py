"""The MiniFASNet layout read off the shipped weights, and weights that do not fit it."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pytest

from facegate.liveness.architecture import Block, ConvUnit, describe, plain_state
from facegate.liveness.pth_format import PthFormatError

States = dict[str, dict[str, npt.NDArray[np.generic]]]


def _blocks(units: tuple[ConvUnit | Block, ...], stage: str) -> list[Block]:
    return [u for u in units if isinstance(u, Block) and u.prefix.startswith(f"{stage}.model.")]


@pytest.mark.parametrize(("name", "gated"), [("MiniFASNetV2", False), ("MiniFASNetV1SE", True)])
def test_layout_of_the_shipped_models(states: States, name: str, gated: bool) -> None:
    net = describe(plain_state(states[name]), 80)
    assert [len(_blocks(net.units, s)) for s in ("conv_3", "conv_4", "conv_5")] == [4, 6, 2]
    gates = [u.se for u in net.units if isinstance(u, Block) and u.se]
    # the SE variant gates the last block of each residual run, and only that one
    assert gates == (
        ["conv_3.model.3.se_module", "conv_4.model.5.se_module", "conv_5.model.1.se_module"]
        if gated
        else []
    )
    first, second = net.units[0], net.units[1]
    assert isinstance(first, ConvUnit) and (first.stride, first.groups) == (2, 1)
    assert isinstance(second, ConvUnit) and second.groups == 32  # depthwise
    last = net.units[-1]
    assert isinstance(last, ConvUnit) and last.prefix == "conv_6_dw" and last.groups == 512
    assert net.head.linear and net.head.classes == 3


def test_other_input_sizes_do_not_reach_1x1(states: States) -> None:
    with pytest.raises(PthFormatError, match="not 1x1"):
        describe(plain_state(states["MiniFASNetV2"]), 96)


def test_a_missing_weight_is_named(states: States) -> None:
    weights = plain_state(states["MiniFASNetV2"])
    del weights["conv_4.model.2.conv_dw.bn.running_var"]
    with pytest.raises(PthFormatError, match=re.escape("conv_4.model.2.conv_dw.bn.running_var")):
        describe(weights, 80)


def test_an_unknown_weight_is_refused(states: States) -> None:
    weights = plain_state(states["MiniFASNetV2"])
    weights["conv_9.weight"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(PthFormatError, match="no known layer"):
        describe(weights, 80)


def test_shapes_that_do_not_chain_are_refused(states: States) -> None:
    weights = plain_state(states["MiniFASNetV2"])
    weights["conv_23.project.conv.weight"] = weights["conv_23.project.conv.weight"][:-1]
    with pytest.raises(PthFormatError):
        describe(weights, 80)


def test_integer_tensors_other_than_counters_are_refused() -> None:
    with pytest.raises(PthFormatError, match="not a float tensor"):
        plain_state({"module.conv1.conv.weight": np.zeros((1,), dtype=np.int64)})
