"""Reader for PyTorch's legacy ``torch.save`` files (before 1.6), without PyTorch.

A legacy file is a run of sections, each but the last one a pickle:

1. the magic number ``0x1950a86a20f9469cfc6c``;
2. the protocol version, ``1001``;
3. a dict of system facts (``little_endian``, the C type sizes of the saving machine);
4. the saved object itself. Every tensor in it is a call
   ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``
   and every storage a persistent id
   ``("storage", <storage class>, key, location, element count, view or None)``;
5. the list of storage keys, in the order their bytes follow;
6. for each key: its element count as a little-endian int64, then the raw little-endian
   elements.

Pickle can run any callable it names, so the unpickler here names only what such a file
needs (``collections.OrderedDict``, ``_rebuild_tensor_v2`` and the storage classes) and
maps each to a harmless stand-in; anything else refuses the file. Tensors come back as
numpy arrays in a plain dict, keys in file order.
"""

from __future__ import annotations

import io
import math
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PthFormatError", "read_state_dict"]

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001

#: storage class -> little-endian element type
_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class PthFormatError(ValueError):
    """The bytes are not a legacy PyTorch state dict of the kind this reader understands."""


@dataclass(frozen=True)
class _StorageClass:
    dtype: str


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: str
    count: int
    #: (base offset, element count) inside the storage named by ``key``, for old views
    view: tuple[int, int] | None


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> _TensorRef:
    # the storages' bytes come after this pickle, so a tensor is only a reference for now
    if not isinstance(storage, _StorageRef):
        raise PthFormatError("a tensor is not built on a storage")
    if not (isinstance(offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)):
        raise PthFormatError("a tensor's offset, size or stride has the wrong type")
    if len(size) != len(stride) or not all(isinstance(v, int) for v in (*size, *stride)):
        raise PthFormatError("a tensor's size and stride do not match")
    return _TensorRef(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageClass(_STORAGE_DTYPES[name])
        raise PthFormatError(f"the file names {module}.{name}, which a state dict never needs")

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise PthFormatError(f"unexpected persistent id {pid!r:.80}")
        _, cls, key, _location, count, view = pid
        if not isinstance(cls, _StorageClass) or not isinstance(key, str):
            raise PthFormatError("a storage reference has the wrong types")
        if not isinstance(count, int) or count < 0:
            raise PthFormatError(f"storage {key} has a bad element count")
        if view is not None:  # (view key, offset, view size), from very old versions
            if not (isinstance(view, tuple) and len(view) == 3):
                raise PthFormatError(f"storage {key} has a bad view")
            return _StorageRef(str(key), cls.dtype, count, (int(view[1]), int(view[2])))
        return _StorageRef(key, cls.dtype, count, None)


def _load(stream: io.BytesIO) -> Any:
    try:
        return _Unpickler(stream).load()
    except PthFormatError:
        raise
    except Exception as exc:  # a damaged pickle fails in many ways; report one
        raise PthFormatError(f"not a readable pickle at byte {stream.tell()}: {exc}") from None


def _read_storages(
    stream: io.BytesIO, keys: list[str], refs: dict[str, _StorageRef]
) -> dict[str, npt.NDArray[Any]]:
    data: dict[str, npt.NDArray[Any]] = {}
    for key in keys:
        ref = refs.get(key)
        if ref is None:
            raise PthFormatError(f"storage {key} has bytes but no tensor uses it")
        head = stream.read(8)
        if len(head) != 8:
            raise PthFormatError(f"the file ends before storage {key}")
        count = int.from_bytes(head, "little", signed=True)
        if count != ref.count:
            raise PthFormatError(f"storage {key} holds {count} elements, not {ref.count}")
        dtype = np.dtype(ref.dtype)
        raw = stream.read(count * dtype.itemsize)
        if len(raw) != count * dtype.itemsize:
            raise PthFormatError(f"the file ends inside storage {key}")
        data[key] = np.frombuffer(raw, dtype=dtype)
    return data


def _materialize(name: str, ref: _TensorRef, storage: npt.NDArray[Any]) -> npt.NDArray[Any]:
    base, limit = 0, storage.size
    if ref.storage.view is not None:
        base, limit = ref.storage.view
        if base < 0 or base + limit > storage.size:
            raise PthFormatError(f"{name}: the storage view lies outside its storage")
    if ref.offset < 0 or any(s < 0 for s in ref.size) or any(s < 0 for s in ref.stride):
        raise PthFormatError(f"{name}: negative offset, size or stride")
    if math.prod(ref.size) == 0:
        return np.zeros(ref.size, dtype=storage.dtype)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if last >= limit:
        raise PthFormatError(f"{name}: the tensor reaches past the end of its storage")
    flat = storage[base : base + limit]
    item = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[ref.offset :], shape=ref.size, strides=[s * item for s in ref.stride]
    )
    # native byte order and owned memory: callers may keep it after the file is gone
    return np.array(view, dtype=storage.dtype.newbyteorder("="), copy=True)


def read_state_dict(data: bytes) -> dict[str, npt.NDArray[Any]]:
    """Parse a legacy ``torch.save(model.state_dict())`` file into ``{name: array}``."""
    stream = io.BytesIO(data)
    if _load(stream) != _MAGIC:
        raise PthFormatError("not a legacy PyTorch file (bad magic number)")
    if _load(stream) != _PROTOCOL:
        raise PthFormatError("unsupported legacy PyTorch protocol version")
    info = _load(stream)
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        raise PthFormatError("only files saved on little-endian machines are supported")
    state = _load(stream)
    if not isinstance(state, dict):
        raise PthFormatError("the file does not hold a state dict")
    keys = _load(stream)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise PthFormatError("the storage key list is missing or damaged")
    tensors: dict[str, _TensorRef] = {}
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, _TensorRef):
            raise PthFormatError(f"state dict entry {name!r:.80} is not a named tensor")
        tensors[name] = value
    refs = {t.storage.key: t.storage for t in tensors.values()}
    storages = _read_storages(stream, keys, refs)
    if stream.tell() != len(data):
        raise PthFormatError(f"{len(data) - stream.tell()} trailing bytes after the storages")
    missing = set(refs) - set(storages)
    if missing:
        raise PthFormatError(f"{len(missing)} storages are used but not stored")
    return {
        name: _materialize(name, ref, storages[ref.storage.key]) for name, ref in tensors.items()
    }
