"""A person's row found by its lookup hash must hold the reference sealed in it: an attacker
who can write the database but holds no key, and gives one person's row another's hash, is
refused (RecordAltered) instead of verifying a stranger as that person."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lawful import consent, live
from sqlalchemy import text

from facegate.errors import RecordAltered
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _swap_lookup_hashes(gate: Gate, a: str, b: str) -> None:
    """Exchange the ``ref_hmac`` of subject rows ``a`` and ``b``, as SQL on the file would."""
    with gate.db.transaction() as s:
        get = text("SELECT ref_hmac FROM subjects WHERE id = :i")
        ha, hb = (s.execute(get, {"i": i}).scalar_one() for i in (a, b))
        put = text("UPDATE subjects SET ref_hmac = :h WHERE id = :i")
        s.execute(put, {"h": "x", "i": a})  # ref_hmac is unique within a deployment
        s.execute(put, {"h": ha, "i": b})
        s.execute(put, {"h": hb, "i": a})


def _subject_of(gate: Gate, template_id: str) -> str:
    with gate.db.read() as s:
        q = text("SELECT subject_id FROM templates WHERE id = :t")
        return str(s.execute(q, {"t": template_id}).scalar_one())


def test_a_row_answering_to_another_persons_hash_is_refused(gate: Gate, photo: Photo) -> None:
    dep = live(gate).id
    rows = []
    for ref, jpg in (("obama", "obama.jpg"), ("biden", "biden.jpg")):
        consent(gate, dep, ref)
        rows.append(_subject_of(gate, gate.enroll(dep, ref, photo(f"fixtures/{jpg}")).template_id))
    biden = photo("fixtures/biden.jpg")
    assert gate.verify(dep, "obama", biden).decision == "no_match"
    _swap_lookup_hashes(gate, *rows)
    with pytest.raises(RecordAltered):
        gate.verify(dep, "obama", biden)  # would have been biden's row: a match
    with pytest.raises(RecordAltered):
        gate.enroll(dep, "biden", photo("fixtures/obama2.jpg"))
    _swap_lookup_hashes(gate, *rows)  # put back: answered again
    assert gate.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"


def test_a_deployment_row_edited_outside_facegate_is_refused(gate: Gate, photo: Photo) -> None:
    dep = live(gate).id
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    biden = photo("fixtures/biden.jpg")
    assert gate.verify(dep, "obama", biden).decision == "no_match"
    with gate.db.read() as s:
        threshold = s.execute(
            text("SELECT threshold FROM deployments WHERE id = :d"), {"d": dep}
        ).scalar_one()
    edit = text("UPDATE deployments SET threshold = :t WHERE id = :d")
    with gate.db.transaction() as s:
        s.execute(edit, {"t": 0.0, "d": dep})  # every face a match, were the row believed
    with pytest.raises(RecordAltered, match="threshold"):
        gate.verify(dep, "obama", biden)
    with pytest.raises(RecordAltered):
        consent(gate, dep, "biden")
    with gate.db.transaction() as s:
        s.execute(edit, {"t": threshold, "d": dep})  # as the ledger says: used again
    assert gate.verify(dep, "obama", biden).decision == "no_match"


def test_the_self_check_sees_rows_that_outlived_their_keys(gate: Gate) -> None:
    """A database restored from an older backup beside a newer key store brings back rows of
    people erased since: the self-check counts them."""
    dep = live(gate).id
    consent(gate, dep, "alice")
    consent(gate, dep, "bob")
    assert gate.self_check().measurements["keys_match"] == "every person's row has its data key"
    with gate.db.read() as s:
        alice = s.execute(text("SELECT id FROM subjects ORDER BY created_at LIMIT 1")).scalar_one()
    gate.core.keyring.keystore.destroy(alice)  # as an erasure after the backup did
    found = gate.self_check().measurements["keys_match"]
    assert found.startswith("1 people's rows remain whose data keys are destroyed"), found
