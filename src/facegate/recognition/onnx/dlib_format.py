"""Reader for dlib's binary serialization of its ResNet face-embedding network.

dlib writes a network with its own stream format (``dlib/serialize.h``):

* integers: one control byte (bit 7 = negative, low nibble = byte count n), then n
  little-endian magnitude bytes;
* floats/doubles: two integers, a mantissa and a base-2 exponent (exponents 32000,
  32001 and 32002 stand for +inf, -inf and NaN);
* strings: an integer length, then the raw bytes;
* bools: one ASCII byte, ``'0'`` or ``'1'``;
* tensors (``dnn/tensor.h``): version, n, k, nr, nc, then the values, as little-endian
  IEEE float32 (version 2) or as dlib floats one by one (version 1).

A network ``add_loss_layer<LOSS, add_layer<L1, add_layer<L2, ... input>>>`` is written
outside-in for the framing and inside-out for the layer contents: each ``add_layer``
writes its version, then its whole sub-network, then its own layer details and state.
``add_tag_layer`` and ``add_skip_layer`` write only a version (1) and the sub-network, so
the tags and skips of a network show up as anonymous markers; :mod:`.architecture`
gives them their meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "DlibFormatError",
    "Layer",
    "Marker",
    "ParsedNetwork",
    "parse_network",
]

_INF_EXP = 32000
_NINF_EXP = 32001
_NAN_EXP = 32002


class DlibFormatError(ValueError):
    """The bytes are not a dlib network of the kind this reader understands."""


@dataclass(frozen=True)
class Marker:
    """A tag or skip layer: dlib serializes both the same way, with no id."""


@dataclass
class Layer:
    """One computational layer (the details object of an ``add_layer``)."""

    kind: str  # "con", "affine", "relu", "max_pool", "avg_pool", "add_prev", "fc"
    params: dict[str, int] = field(default_factory=dict)
    tensors: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)


@dataclass
class ParsedNetwork:
    """Everything the converter needs, in input-to-output order."""

    loss: str
    mean_rgb: tuple[float, float, float]
    input_size: tuple[int, int]  # rows, columns
    stack: list[Layer | Marker]  # bottom (next to the input) first


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self._data):
            raise DlibFormatError(f"unexpected end of data at byte {self.pos}")
        chunk = self._data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def peek(self) -> int:
        if self.pos >= len(self._data):
            raise DlibFormatError("unexpected end of data")
        return int(self._data[self.pos])

    def at_end(self) -> bool:
        return self.pos >= len(self._data)

    def integer(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise DlibFormatError(f"bad integer control byte {control:#04x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little", signed=False)
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        if exponent == _INF_EXP:
            return math.inf
        if exponent == _NINF_EXP:
            return -math.inf
        if exponent == _NAN_EXP:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def string(self) -> str:
        length = self.integer()
        if length < 0 or length > 1 << 20:
            raise DlibFormatError(f"implausible string length {length}")
        return bytes(self._take(length)).decode("latin-1")

    def boolean(self) -> bool:
        ch = self._take(1)[0]
        if ch not in (0x30, 0x31):
            raise DlibFormatError(f"bad bool byte {ch:#04x} at {self.pos - 1}")
        return ch == 0x31

    def tensor(self) -> npt.NDArray[np.float32]:
        version = self.integer()
        dims = tuple(self.integer() for _ in range(4))
        if any(d < 0 for d in dims):
            raise DlibFormatError(f"negative tensor dimension {dims}")
        count = math.prod(dims)
        if version == 2:
            raw = self._take(4 * count)
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        elif version == 1:
            values = np.array([self.real() for _ in range(count)], dtype=np.float32)
        else:
            raise DlibFormatError(f"unknown tensor version {version}")
        return values.reshape(dims)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        version = self.integer()
        if version != 1:
            raise DlibFormatError(f"unknown alias_tensor version {version}")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise DlibFormatError(what)


def _read_window(r: _Reader) -> dict[str, int]:
    keys = ("nr", "nc", "stride_y", "stride_x", "pad_y", "pad_x")
    return {k: r.integer() for k in keys}


def _read_details(r: _Reader) -> Layer:
    name = r.string()
    if name == "con_4":
        params = r.tensor().reshape(-1)
        p = {
            k: r.integer()
            for k in ("num_filters", "nr", "nc", "stride_y", "stride_x", "pad_y", "pad_x")
        }
        filt = r.alias_tensor()
        bias = r.alias_tensor()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.real()
        nfilt = math.prod(filt)
        _expect(
            filt[0] == p["num_filters"] and nfilt + math.prod(bias) == params.size,
            f"con_ parameter sizes do not add up: {filt} {bias} {params.size}",
        )
        p["in_channels"] = filt[1]
        return Layer(
            "con",
            p,
            {
                "weight": params[:nfilt].reshape(filt).copy(),
                "bias": params[nfilt:].copy(),
            },
        )
    if name == "affine_":
        params = r.tensor().reshape(-1)
        gamma = r.alias_tensor()
        beta = r.alias_tensor()
        # Newer dlib appends the mode (0 = CONV_MODE, 1 = FC_MODE) as an int; older
        # files go straight on to the enclosing add_layer's bool flags ('0'/'1'),
        # which no int control byte equals.  Then the gamma shape tells the mode.
        old_format = r.peek() in (0x30, 0x31)
        mode = (0 if gamma[2] == gamma[3] == 1 else 1) if old_format else r.integer()
        ng, nb = math.prod(gamma), math.prod(beta)
        _expect(ng == nb and ng + nb == params.size, "affine_ parameter sizes do not add up")
        return Layer(
            "affine",
            {"mode": mode, "channels": gamma[1]},
            {
                "gamma": params[:ng].copy(),
                "beta": params[ng:].copy(),
            },
        )
    if name == "relu_":
        return Layer("relu")
    if name == "add_prev_":
        return Layer("add_prev")
    if name in ("max_pool_2", "avg_pool_2"):
        return Layer(name[:-2], _read_window(r))
    if name == "fc_2":
        num_outputs = r.integer()
        num_inputs = r.integer()
        params = r.tensor().reshape(-1)
        weights = r.alias_tensor()
        biases = r.alias_tensor()
        bias_mode = r.integer()  # 0 = FC_HAS_BIAS, 1 = FC_NO_BIAS
        for _ in range(4):
            r.real()
        nw = math.prod(weights)
        _expect(weights[:2] == (num_inputs, num_outputs), "fc_ weight shape mismatch")
        tensors = {"weight": params[:nw].reshape(num_inputs, num_outputs).copy()}
        if bias_mode == 0:
            tensors["bias"] = params[nw : nw + math.prod(biases)].copy()
        return Layer("fc", {"num_inputs": num_inputs, "num_outputs": num_outputs}, tensors)
    raise DlibFormatError(f"unsupported dlib layer type {name!r}")


def _skip_layer_state(r: _Reader, version: int) -> None:
    for _ in range(3):  # setup_called, gradient_input_is_stale, output_disabled
        r.boolean()
    r.tensor()  # x_grad
    r.tensor()  # cached_output
    if version >= 2:
        r.tensor()  # params_grad


def parse_network(data: bytes) -> ParsedNetwork:
    """Parse a serialized ``loss<... add_layer<..., input_rgb_image_sized>>`` network."""
    r = _Reader(data)
    _expect(r.integer() == 1, "not a dlib add_loss_layer (version != 1)")
    loss = r.string()
    if loss == "loss_metric_2":
        r.real()  # margin
        r.real()  # distance threshold
    elif loss == "loss_metric_":
        pass
    else:
        raise DlibFormatError(f"unsupported loss layer {loss!r}")

    # Framing, outer to inner: versions 2 (add_layer), 1 (tag/skip marker),
    # and finally 2 or 3 for the add_layer sitting on the input layer.
    frames: list[int] = []
    while True:
        if r.peek() != 0x01:
            raise DlibFormatError(f"unexpected byte {r.peek():#04x} in network framing")
        save = r.pos
        version = r.integer()
        # The input-level add_layer is followed directly by the input layer's name.
        if version in (2, 3) and r.peek() == 0x01:
            look = r.pos
            try:
                maybe = r.string()
            except DlibFormatError:
                maybe = ""
            r.pos = look
            if maybe.startswith("input_"):
                frames.append(-version)
                break
        if version not in (1, 2):
            r.pos = save
            raise DlibFormatError(f"unexpected layer version {version} at byte {save}")
        frames.append(version)

    input_name = r.string()
    _expect(input_name == "input_rgb_image_sized", f"unsupported input layer {input_name!r}")
    mean_rgb = (r.real(), r.real(), r.real())
    input_size = (r.integer(), r.integer())

    # Inner-most computational layer (the one on the input) and its state.
    stack: list[Layer | Marker] = []
    first = _read_details(r)
    for _ in range(3):
        r.boolean()
    r.tensor()  # x_grad
    r.tensor()  # cached_output
    r.tensor()  # grad_final
    if -frames[-1] >= 3:
        r.integer()  # sample_expansion_factor
    stack.append(first)

    # Walk back out through the framing: markers carry nothing more, add_layers
    # carry their details and state.
    for version in reversed(frames[:-1]):
        if version == 1:
            stack.append(Marker())
        else:
            stack.append(_read_details(r))
            _skip_layer_state(r, version)

    _expect(r.at_end(), f"{len(data) - r.pos} trailing bytes after the network")
    return ParsedNetwork(loss=loss, mean_rgb=mean_rgb, input_size=input_size, stack=stack)
