"""The legacy ``.pth`` reader: round trips through an independent writer, the shipped
weights, and files it must refuse (without running anything they name)."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pytest

from facegate.liveness.models import MODELS, PadModel, default_weights_dir
from facegate.liveness.pth_format import PthFormatError, read_state_dict

from .legacy_writer import MAGIC, Storage, Tensor, tensor, write


def test_round_trip_contiguous_and_strided() -> None:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    shared = Storage("shared", np.arange(20, dtype=np.float32))
    state = {
        "conv.weight": tensor("1", w),
        "counter": tensor("2", np.array(92385, dtype=np.int64)),
        # a transposed view at an offset into a storage that another tensor also uses
        "view": Tensor(shared, 2, (3, 4), (1, 3)),
        "head": Tensor(shared, 0, (5,), (1,)),
    }
    got = read_state_dict(write(state))
    assert list(got) == list(state)
    np.testing.assert_array_equal(got["conv.weight"], w)
    assert got["counter"].shape == () and int(got["counter"]) == 92385
    assert got["counter"].dtype == np.int64
    expected = np.arange(20, dtype=np.float32)[2:14].reshape(4, 3).T
    np.testing.assert_array_equal(got["view"], expected)
    np.testing.assert_array_equal(got["head"], np.arange(5, dtype=np.float32))
    assert got["view"].flags.writeable and got["view"].flags.owndata


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_shipped_weights(model: PadModel) -> None:
    state = read_state_dict((default_weights_dir() / model.filename).read_bytes())
    assert all(k.startswith("module.") for k in state)
    assert state["module.conv1.conv.weight"].shape == (32, 3, 3, 3)
    assert state["module.linear.weight"].shape == (128, 512)
    assert state["module.prob.weight"].shape == (3, 128)
    floats = sum(v.size for v in state.values() if v.dtype == np.float32)
    # the authors' comments give about 0.41-0.43 M parameters; BN statistics add a few
    assert 430_000 < floats < 450_000
    assert all(np.isfinite(v).all() for v in state.values())
    # trained on raw 0..255 pixels: the first batch norm's variances are large
    assert state["module.conv1.bn.running_var"].max() > 100


def _ok() -> dict[str, Tensor]:
    return {"a": tensor("1", np.ones(3, dtype=np.float32))}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda: write(_ok(), magic=MAGIC + 1), "magic"),
        (lambda: write(_ok(), little_endian=False), "little-endian"),
        (lambda: write(_ok(), count_delta=1), "holds 4 elements"),
        (lambda: write(_ok(), trailing=b"\0"), "trailing"),
        (lambda: write(_ok())[:-2], "ends inside storage"),
        (lambda: write(_ok())[:40], "not a readable pickle"),
        (lambda: b"", "not a readable pickle"),
        (lambda: write({"a": Tensor(Storage("1", np.ones(3, np.float32)), 2, (2,), (1,))}), "past"),
    ],
)
def test_damaged_files_are_refused(damage: Callable[[], bytes], message: str) -> None:
    with pytest.raises(PthFormatError, match=message):
        read_state_dict(damage())


class _Boom:
    def __reduce__(self) -> tuple[object, ...]:
        return (print, ("pwned",))  # pickle would call print("pwned") on load


def test_a_pickle_naming_other_code_is_refused_unrun(capsys: pytest.CaptureFixture[str]) -> None:
    head = b"".join(pickle.dumps(x, protocol=2) for x in (MAGIC, 1001, {"little_endian": True}))
    data = head + pickle.dumps({"a": _Boom()}, protocol=2)
    with pytest.raises(PthFormatError, match=r"\.print, which"):
        read_state_dict(data)
    assert "pwned" not in capsys.readouterr().out


def test_entries_must_be_tensors() -> None:
    head = b"".join(pickle.dumps(x, protocol=2) for x in (MAGIC, 1001, {"little_endian": True}))
    data = head + pickle.dumps({"a": 3}, protocol=2) + pickle.dumps([], protocol=2)
    with pytest.raises(PthFormatError, match="not a named tensor"):
        read_state_dict(data)
