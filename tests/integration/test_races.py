"""Every read-check-write holds under concurrency, on SQLite and on PostgreSQL: duplicate
consents give one receipt and conflicts (never a 500), the templates-per-person cap holds, and
concurrent reviews of one match lose none and never confirm a rejected match."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from lawful import CN_SPEC, consent, live

from facegate.errors import Conflict, FacegateError, PolicyDenied
from facegate.flows.biometrics import MAX_TEMPLATES_PER_SUBJECT
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _outcomes(calls: list[Callable[[], object]], workers: int = 8) -> Counter[str]:
    def one(call: Callable[[], object]) -> str:
        try:
            call()
        except FacegateError as err:
            return type(err).__name__
        return "ok"

    with ThreadPoolExecutor(workers) as pool:
        return Counter(pool.map(one, calls))


def test_duplicate_consents_at_once_give_one_receipt(gate: Gate) -> None:
    dep = live(gate)
    results = _outcomes([lambda: consent(gate, dep.id, "same person")] * 8)
    assert results == Counter({"ok": 1, "Conflict": 7}), results
    assert gate.counts()["subjects"] == 1
    assert len(gate.core.keyring.keystore.all_ids()) == 1  # no key left by the losers


def test_the_templates_per_person_cap_holds_under_concurrency(gate: Gate, photo: Photo) -> None:
    dep = live(gate)
    consent(gate, dep.id, "alice")
    image = photo("fixtures/obama.jpg")
    results = _outcomes([lambda: gate.enroll(dep.id, "alice", image)] * 10, workers=6)
    assert results["ok"] == MAX_TEMPLATES_PER_SUBJECT, results
    assert results["Conflict"] == 10 - MAX_TEMPLATES_PER_SUBJECT
    assert gate.counts()["templates"] == MAX_TEMPLATES_PER_SUBJECT


def test_concurrent_reviews_lose_none_and_a_rejection_sticks(gate: Gate, photo: Photo) -> None:
    remote = {
        **CN_SPEC,
        "jurisdiction": "eu",
        "capabilities": ["remote_identification"],
        "legal_basis": "substantial_public_interest",
        "capture": "in_view",
    }
    dep = live(gate, **remote)
    consent(gate, dep.id, "anna")
    gate.enroll(dep.id, "anna", photo("fixtures/obama.jpg"))
    idn = gate.identify(dep.id, photo("fixtures/obama2.jpg")).identification_id
    assert idn
    reviewers = [
        gate.acting_as(gate.create_principal(f"Reviewer {i}", "reviewer").api_key.key)
        for i in range(6)
    ]
    # one of the six rejects; whatever the order, a confirmed match needs two confirmations
    # before any rejection, and every review is either recorded or refused, never lost
    calls = [
        (lambda r=r, i=i: r.review_identification(idn, confirm=i != 3))
        for i, r in enumerate(reviewers)
    ]
    results = _outcomes(calls, workers=6)  # type: ignore[arg-type]
    assert set(results) <= {"ok", "Conflict"}, results
    with gate.db.read() as s:
        from facegate.storage import tables as t

        row = s.get(t.Identification, idn)
        assert row is not None
        reviews = list(row.reviewers)
    assert len(reviews) == results["ok"]
    confirms = [r for r in reviews if r["confirm"]]
    if row.status == "confirmed":
        assert len(confirms) == 2 and reviews[-1]["confirm"]
        assert all(r["confirm"] for r in reviews)
    else:
        assert row.status == "rejected" and not reviews[-1]["confirm"]
        assert len(confirms) < 2


def test_concurrent_erasures_of_one_person_write_one_receipt(gate: Gate) -> None:
    dep = live(gate)
    consent(gate, dep.id, "alice")
    results = _outcomes([lambda: gate.erase(dep.id, "alice")] * 6)
    assert results["ok"] == 1 and results["NotFound"] == 5, results
    kinds = Counter()
    import json

    for i in range(gate.counts()["ledger_entries"]):
        kinds[json.loads(gate.ledger_entry(i).data)["kind"]] += 1
    assert kinds["erase"] == 1
    assert PolicyDenied and Conflict  # the error tree maps both to 4xx
