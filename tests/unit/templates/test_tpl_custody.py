"""Split custody: k-of-n shares of a key; an attacker short of one share recovers nothing."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from facegate.custody import combine_key, read_share, split_key, write_share
from facegate.custody.hazmat import shamir
from facegate.errors import ConfigError, InvalidInput, InvalidTemplate
from facegate.evaluation.custody import ATTACKERS, opened_by
from facegate.templates import MasterKey, TemplateProtector, new_deployment_key
from facegate.templates.hazmat import keys
from facegate.templates.protector import unwrap_deployment_key


def test_any_two_of_three_rebuild_the_key(key: bytes, entropy) -> None:  # type: ignore[no-untyped-def]
    shares = split_key(key, entropy=entropy)
    assert [s.holder for s in shares] == ["operator", "hsm", "regulator"]
    for pair in itertools.permutations(shares, 2):
        assert combine_key(list(pair)) == key
    assert combine_key(shares) == key  # more than needed is fine


def test_one_share_is_refused_and_is_not_the_key(key: bytes, entropy) -> None:  # type: ignore[no-untyped-def]
    shares = split_key(key, entropy=entropy)
    with pytest.raises(InvalidInput, match="2 of 3 are needed"):
        combine_key(shares[:1])
    with pytest.raises(InvalidInput, match="2 of 3"):
        combine_key([shares[0], shares[0]])  # the same share twice is still one
    assert all(s.value != key for s in shares)


def test_one_share_is_consistent_with_every_key(key: bytes, other_key: bytes, entropy) -> None:  # type: ignore[no-untyped-def]
    # Information-theoretic: for ANY candidate key there is a second share that, with the
    # stolen one, rebuilds exactly that candidate; one share rules out no key at all.
    stolen = split_key(key, entropy=entropy)[0]
    for candidate in (other_key, bytes(32), os.urandom(32)):
        # the line through (0, candidate) and the stolen point, read at x = 2
        second = bytes(
            _line_at(stolen.index, s_byte, c_byte, 2)
            for s_byte, c_byte in zip(stolen.value, candidate, strict=True)
        )
        assert shamir.combine([(stolen.index, stolen.value), (2, second)]) == candidate


def _line_at(x1: int, y1: int, secret: int, x: int) -> int:
    # f(t) = secret + a·t with f(x1) = y1  =>  a = (y1 ^ secret) / x1 ; f(x) = secret ^ a·x
    a = shamir._div(y1 ^ secret, x1)
    return secret ^ shamir._mul(a, x)


def test_a_damaged_or_foreign_share_is_detected(key: bytes, other_key: bytes, entropy) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = split_key(key, entropy=entropy)
    damaged = type(b)(**{**_fields(b), "value": bytes([b.value[0] ^ 1]) + b.value[1:]})
    with pytest.raises(InvalidInput, match="damaged or altered"):
        combine_key([a, damaged])
    foreign = split_key(other_key, entropy=entropy)[1]
    with pytest.raises(InvalidInput, match="different splits"):
        combine_key([a, foreign])
    with pytest.raises(InvalidInput, match="cannot rebuild"):
        combine_key([a, b], purpose="he-decision-key")


def _fields(share):  # type: ignore[no-untyped-def]
    return {f: getattr(share, f) for f in share.__dataclass_fields__}


def test_bad_splits_are_refused(key: bytes) -> None:
    with pytest.raises(InvalidInput, match="2 <= threshold"):
        split_key(key, threshold=1)
    with pytest.raises(InvalidInput):
        split_key(key, holders=("a", "a", "b"))
    with pytest.raises(InvalidInput):
        split_key(key[:16])


def test_share_files_are_private_and_never_overwritten(key: bytes, tmp_path: Path, entropy) -> None:  # type: ignore[no-untyped-def]
    shares = split_key(key, entropy=entropy)
    path = tmp_path / "s" / "operator.share"
    write_share(shares[0], path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert "share" in path.read_text() and repr(shares[0]).count("value") == 0
    with pytest.raises(ConfigError, match="overwrite"):
        write_share(shares[0], path)
    assert read_share(path) == shares[0]
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="other users"):
        read_share(path)
    junk = tmp_path / "junk.share"
    junk.write_text("{}")
    junk.chmod(0o600)
    with pytest.raises(InvalidInput):
        read_share(junk)


def test_db_keystore_and_one_share_open_no_template(entropy, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A real hierarchy: master (split, then discarded) -> deployment key -> data key -> template.
    master = MasterKey.generate(entropy)
    shares = split_key(master.key, entropy=entropy)
    dep_key, wrapped_dep = new_deployment_key(master, deployment_id="dep_1", entropy=entropy)
    p = TemplateProtector("dep_1", dep_key, entropy=entropy)
    data_key, wrapped_data = p.new_data_key(subject_id="sub_1")
    sealed = p.seal(_embedding(), subject_id="sub_1", template_id="tpl_1", data_key=data_key)
    del master, dep_key, data_key, p
    # The attacker: the database (wrapped_dep, sealed), the key store (wrapped_data) and the
    # operator's share. Every key their parts suggest fails to open the deployment key.
    candidates = [shares[0].value, keys.derive(shares[0].value, label="key-wrap")]
    for candidate in candidates:
        with pytest.raises(InvalidTemplate):
            unwrap_deployment_key(MasterKey(candidate), wrapped_dep, deployment_id="dep_1")
    with pytest.raises(InvalidInput):
        combine_key(shares[:1])
    # Two shares (the threshold) open everything: the test above is not vacuous.
    rebuilt = MasterKey(combine_key(shares[1:]))
    dep = unwrap_deployment_key(rebuilt, wrapped_dep, deployment_id="dep_1")
    q = TemplateProtector("dep_1", dep)
    dk = q.unwrap_data_key(wrapped_data, subject_id="sub_1")
    assert q.open(sealed, subject_id="sub_1", template_id="tpl_1", data_key=dk)


def test_bench_attackers_open_only_with_every_share() -> None:
    assert [opened_by(a) for a in ATTACKERS] == [False, False, False, True]


def _embedding():  # type: ignore[no-untyped-def]
    import numpy as np

    from facegate.templates.hazmat._mean import MEAN

    return np.asarray(MEAN) + 0.05
