"""The recipe layer: protect-then-encrypt, bound to its row, under the key hierarchy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from facegate._internal.clock import Entropy
from facegate.errors import InvalidTemplate
from facegate.templates import (
    MasterKey,
    TemplateProtector,
    get_scheme,
    new_deployment_key,
    template_ad,
    unwrap_deployment_key,
)
from facegate.templates.hazmat import biohash


def embedding(shift: float = 0.0) -> npt.NDArray[np.float64]:
    return np.asarray(
        np.array(biohash.MEAN) + 0.05 * np.sin(np.arange(128) + shift), dtype=np.float64
    )


@pytest.fixture
def protector(key: bytes) -> TemplateProtector:
    return TemplateProtector("dep_1", key)


def test_seal_open_round_trip(protector: TemplateProtector) -> None:
    data_key, _ = protector.new_data_key(subject_id="sub_1")
    sealed = protector.seal(embedding(), subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    opened = protector.open(sealed, subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    assert opened == protector.protect(embedding())
    assert len(sealed) == 128 + 29
    assert protector.matches(protector.protect(embedding()), opened)


def test_sealed_template_opens_only_in_its_row(protector: TemplateProtector, key: bytes) -> None:
    data_key, _ = protector.new_data_key(subject_id="sub_1")
    other_data_key, _ = protector.new_data_key(subject_id="sub_2")
    sealed = protector.seal(embedding(), subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    long_scheme = TemplateProtector("dep_1", key, scheme=get_scheme("biohash-v1", bits=2048))
    attempts: list[Callable[[], bytes]] = [
        lambda: protector.open(sealed, subject_id="sub_2", template_id="tpl_1", data_key=data_key),
        lambda: protector.open(sealed, subject_id="sub_1", template_id="tpl_2", data_key=data_key),
        lambda: protector.open(
            sealed, subject_id="sub_1", template_id="tpl_1", data_key=other_data_key
        ),
        lambda: TemplateProtector("dep_2", key).open(
            sealed, subject_id="sub_1", template_id="tpl_1", data_key=data_key
        ),
        lambda: long_scheme.open(
            sealed, subject_id="sub_1", template_id="tpl_1", data_key=data_key
        ),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTemplate):
            attempt()


def test_data_keys_are_wrapped_per_subject(protector: TemplateProtector) -> None:
    data_key, wrapped = protector.new_data_key(subject_id="sub_1")
    assert data_key not in wrapped
    assert protector.unwrap_data_key(wrapped, subject_id="sub_1") == data_key
    with pytest.raises(InvalidTemplate):
        protector.unwrap_data_key(wrapped, subject_id="sub_2")
    with pytest.raises(InvalidTemplate):
        TemplateProtector("dep_1", bytes(32)).unwrap_data_key(wrapped, subject_id="sub_1")


def test_deployment_keys_are_wrapped_by_the_master(key: bytes) -> None:
    master = MasterKey(key)
    dep_key, wrapped = new_deployment_key(master, deployment_id="dep_1")
    assert dep_key not in wrapped and dep_key != key
    assert unwrap_deployment_key(master, wrapped, deployment_id="dep_1") == dep_key
    with pytest.raises(InvalidTemplate):
        unwrap_deployment_key(master, wrapped, deployment_id="dep_2")
    with pytest.raises(InvalidTemplate):
        unwrap_deployment_key(MasterKey(bytes(32)), wrapped, deployment_id="dep_1")


def test_reproducible_with_injected_entropy(
    key: bytes, make_entropy: Callable[..., Entropy]
) -> None:
    def run(label: bytes = b"test") -> bytes:
        p = TemplateProtector("dep_1", key, entropy=make_entropy(label))
        data_key, _ = p.new_data_key(subject_id="s")
        return p.seal(embedding(), subject_id="s", template_id="t", data_key=data_key)

    assert run() == run()
    assert run(b"other") != run()  # the entropy is used, not ignored


def test_repr_hides_the_key(protector: TemplateProtector, key: bytes) -> None:
    text = repr(protector)
    assert key.hex() not in text and repr(key) not in text
    assert "dep_1" in text and len(protector.key_id) == 16


def test_template_ad_is_what_gate_stores() -> None:
    assert template_ad("dep_1", "sub_1", "tpl_1", "biohash-v1") == (
        b"template|dep_1|sub_1|tpl_1|biohash-v1"
    )
    with pytest.raises(ValueError):
        template_ad("dep|1", "sub_1", "tpl_1", "biohash-v1")
    with pytest.raises(ValueError):
        TemplateProtector("dep|1", bytes(32))


def test_misuse(protector: TemplateProtector) -> None:
    data_key, _ = protector.new_data_key(subject_id="s")
    with pytest.raises(ValueError, match="128 bytes"):
        protector.seal_template(bytes(64), subject_id="s", template_id="t", data_key=data_key)
    with pytest.raises(ValueError, match="between 0 and 1"):
        protector.matches(bytes(128), bytes(128), threshold=1.5)
    with pytest.raises(ValueError):
        TemplateProtector("dep_1", b"short")


def test_rotating_the_deployment_key_cancels_templates(key: bytes, other_key: bytes) -> None:
    old, new = TemplateProtector("dep_1", key), TemplateProtector("dep_1", other_key)
    sim = old.similarity(old.protect(embedding()), new.protect(embedding()))
    assert abs(sim - 0.5) < 0.1


def test_open_many_opens_rows_and_refuses_a_moved_one() -> None:
    import numpy as np

    from facegate.errors import InvalidTemplate

    p = TemplateProtector("dep_1", bytes(range(32)))
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3):
        key, wrapped = p.new_data_key(subject_id=f"sub_{i}")
        assert p.unwrap_data_keys({f"sub_{i}": wrapped}) == {f"sub_{i}": key}
        sealed = p.seal(
            rng.standard_normal(128) * 0.1, subject_id=f"sub_{i}", template_id=f"t{i}", data_key=key
        )
        rows.append((sealed, f"sub_{i}", f"t{i}", key))
    opened = p.open_many(rows)
    assert opened == [
        p.open(s, subject_id=sid, template_id=tid, data_key=k) for s, sid, tid, k in rows
    ]
    moved = (rows[0][0], "sub_0", "t1", rows[0][3])  # a template put in another row
    with pytest.raises(InvalidTemplate):
        p.open_many([rows[1], moved])
    assert p.unwrap_data_keys({"sub_1": p.new_data_key(subject_id="sub_2")[1]}) == {"sub_1": None}
