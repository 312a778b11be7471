"""Writes PyTorch's legacy ``torch.save`` layout without PyTorch, for reader tests.

The pickle names ``torch.FloatStorage`` and ``torch._utils._rebuild_tensor_v2`` as globals,
and pickle only writes a global it can look up, so :func:`fake_torch` puts stand-in
``torch`` modules into ``sys.modules`` while a file is written (and removes them after).
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_NAMES = {np.dtype("<f4"): "FloatStorage", np.dtype("<i8"): "LongStorage"}


@dataclass
class Storage:
    key: str
    data: npt.NDArray[Any]


@dataclass
class Tensor:
    storage: Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return (rebuild, (self.storage, self.offset, self.size, self.stride, False, OrderedDict()))


@contextmanager
def fake_torch() -> Iterator[None]:
    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args: Any) -> None:  # never called: only named in the pickle
        raise AssertionError(args)

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]
    for name in _STORAGE_NAMES.values():
        setattr(torch, name, type(name, (), {"__module__": "torch", "__qualname__": name}))
    torch._utils = utils  # type: ignore[attr-defined]
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def tensor(key: str, array: npt.NDArray[Any]) -> Tensor:
    """A contiguous tensor owning a storage of its own."""
    dense = np.array(array, order="C")  # ascontiguousarray would make a 0-d array 1-d
    strides = tuple(s // dense.itemsize for s in dense.strides)
    return Tensor(Storage(key, dense.reshape(-1)), 0, tuple(dense.shape), strides)


def write(
    state: dict[str, Tensor],
    *,
    magic: int = MAGIC,
    little_endian: bool = True,
    count_delta: int = 0,
    trailing: bytes = b"",
) -> bytes:
    """The bytes of ``torch.save(state)`` in the legacy format (with optional damage)."""
    out = io.BytesIO()
    storages: dict[str, Storage] = {}
    with fake_torch():
        torch = sys.modules["torch"]

        class _Pickler(pickle.Pickler):
            def persistent_id(self, obj: Any) -> Any:
                if not isinstance(obj, Storage):
                    return None
                storages[obj.key] = obj
                cls = getattr(torch, _STORAGE_NAMES[obj.data.dtype])
                return ("storage", cls, obj.key, "cpu", obj.data.size, None)

        pickle.dump(magic, out, protocol=2)
        pickle.dump(1001, out, protocol=2)
        info = {"protocol_version": 1001, "little_endian": little_endian, "type_sizes": {}}
        pickle.dump(info, out, protocol=2)
        _Pickler(out, protocol=2).dump(OrderedDict(state))
    keys = sorted(storages)
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        data = storages[key].data
        out.write(int(data.size + count_delta).to_bytes(8, "little", signed=True))
        out.write(data.tobytes())
    return out.getvalue() + trailing
