"""The transfer rules both ways, through real shares and exports (CN-FR-8, CN-PIPL-38,
CN-SPC-7, US-IL-15c): a refusal cites the rule and is ledgered, and nothing leaves; once the
fact the rule is about holds, the act goes through and its events cite the rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lawful import PACK_SPEC, cites, refused
from transfers_support import Photo, leaves, people, ready, recipient

from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.storage import tables as t

rule = pytest.mark.rule


def _sent(gate: Gate) -> int:
    return len(leaves(gate, "share")) + len(leaves(gate, "export"))


@rule("CN-FR-8", "refused")
def test_face_data_stays_on_the_device_without_a_separate_egress_consent(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), disclosure=True)  # no egress consent
    rec = recipient(sqlite_gate, dep)
    err = refused(sqlite_gate, "CN-FR-8", lambda: sqlite_gate.share(dep.id, rec.id, everyone=True))
    assert err.message.startswith("obama: ")  # the operator learns whom it is about
    # a deployment that declared no egress keeps everyone's data in, consent or not
    kept = ready(sqlite_gate, photo, ("biden",), dep_changes={"egress": False}, egress=True)
    inside = recipient(sqlite_gate, kept)
    refused(sqlite_gate, "CN-FR-8", lambda: sqlite_gate.share(kept.id, inside.id, everyone=True))
    assert _sent(sqlite_gate) == 0


@rule("CN-FR-8", "allowed")
def test_a_separate_egress_consent_lets_a_share_through(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    rec = recipient(sqlite_gate, dep)
    out = sqlite_gate.share(dep.id, rec.id, subjects=["obama"])
    assert out.people == 1 and "CN-FR-8" in cites(sqlite_gate, out.event_id)
    (person,) = leaves(sqlite_gate, "transfer.person")
    assert "CN-FR-8" in person["rules"] and person["details"]["export_id"] == out.export_id


@rule("CN-PIPL-38", "refused")
def test_abroad_needs_a_mechanism(sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    foreign = recipient(sqlite_gate, dep, name="Overseas Cloud Ltd", country="SG")
    refused(
        sqlite_gate, "CN-PIPL-38", lambda: sqlite_gate.export(dep.id, foreign.id, everyone=True)
    )
    # a share to a recipient abroad is judged as an export too
    refused(sqlite_gate, "CN-PIPL-38", lambda: sqlite_gate.share(dep.id, foreign.id, everyone=True))
    assert _sent(sqlite_gate) == 0


@rule("CN-PIPL-38", "refused")
def test_ten_thousand_people_abroad_a_year_need_a_security_assessment(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    earlier = recipient(sqlite_gate, dep, country="US", mechanism="security_assessment")
    _earlier_exports_abroad_this_year(sqlite_gate, dep.id, earlier.id, people=9_999)
    contract = recipient(sqlite_gate, dep, country="SG", mechanism="standard_contract")
    err = refused(
        sqlite_gate, "CN-PIPL-38", lambda: sqlite_gate.export(dep.id, contract.id, everyone=True)
    )
    assert "10000 people" in err.message
    assessed = recipient(sqlite_gate, dep, country="SG", mechanism="security_assessment")
    out = sqlite_gate.export(dep.id, assessed.id, everyone=True)
    assert out.people_abroad_this_year == 10_000


@rule("CN-PIPL-38", "allowed")
def test_an_export_abroad_with_consent_and_a_mechanism_counts_towards_the_year(
    gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    sqlite_gate = gate  # on both databases: the year's count is a query over every export
    dep = ready(sqlite_gate, photo, ("obama", "biden"), egress=True)
    first = recipient(sqlite_gate, dep, country="SG", mechanism="standard_contract")
    second = recipient(
        sqlite_gate, dep, name="Other Cloud", country="HK", mechanism="certification"
    )
    one = sqlite_gate.export(dep.id, first.id, subjects=["obama"])
    assert one.cross_border and "CN-PIPL-38" in cites(sqlite_gate, one.event_id)
    # the year's count spans every export of the operator, to any recipient
    two = sqlite_gate.export(dep.id, second.id, subjects=["biden", "obama"])
    assert (one.people_abroad_this_year, two.people_abroad_this_year) == (1, 2)
    domestic = recipient(sqlite_gate, dep, name="Local Backup")
    home = sqlite_gate.export(dep.id, domestic.id, everyone=True)
    assert not home.cross_border and "CN-PIPL-38" not in cites(sqlite_gate, home.event_id)


@rule("CN-SPC-7", "refused")
def test_unlimited_or_irrevocable_terms_are_void_and_an_ended_agreement_is_none(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    unlimited = recipient(sqlite_gate, dep, retention_days="unlimited")
    refused(sqlite_gate, "CN-SPC-7", lambda: sqlite_gate.share(dep.id, unlimited.id, everyone=True))
    forever = recipient(sqlite_gate, dep, irrevocable=True)
    refused(sqlite_gate, "CN-SPC-7", lambda: sqlite_gate.share(dep.id, forever.id, everyone=True))
    revoked = recipient(sqlite_gate, dep)
    sqlite_gate.revoke_recipient(revoked.id, reason="the contract was terminated by us")
    err = refused(
        sqlite_gate, "CN-SPC-7", lambda: sqlite_gate.share(dep.id, revoked.id, everyone=True)
    )
    assert "no agreement" in err.message
    assert _sent(sqlite_gate) == 0


@rule("CN-SPC-7", "allowed")
def test_a_recorded_agreement_puts_the_recipient_on_the_ledger_and_lets_data_go(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    rec = recipient(sqlite_gate, dep)
    (added,) = leaves(sqlite_gate, "recipient.added")
    assert added["details"]["recipient_id"] == rec.id and added["details"]["name"] == rec.name
    assert added["details"]["agreement_sha256"] == rec.agreement_sha256
    out = sqlite_gate.share(dep.id, rec.id, everyone=True)
    assert "CN-SPC-7" in cites(sqlite_gate, out.event_id)
    assert sqlite_gate.list_recipients(dep.id)[0].people_received == 1


@rule("US-IL-15c", "refused")
def test_bipa_forbids_profiting_and_disclosure_without_consent(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), dep_changes=PACK_SPEC["us-il"])
    buyer = recipient(sqlite_gate, dep, country="US", for_profit=True)
    refused(sqlite_gate, "US-IL-15c", lambda: sqlite_gate.share(dep.id, buyer.id, everyone=True))
    vendor = recipient(sqlite_gate, dep, country="US")
    err = refused(
        sqlite_gate, "US-IL-15c", lambda: sqlite_gate.export(dep.id, vendor.id, everyone=True)
    )
    assert "not consented to disclosure" in err.message
    assert _sent(sqlite_gate) == 0


@rule("US-IL-15c", "allowed")
def test_a_written_consent_to_one_recipient_given_later_allows_the_disclosure(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(sqlite_gate, photo, ("obama",), dep_changes=PACK_SPEC["us-il"])
    vendor = recipient(sqlite_gate, dep, country="US")
    given = sqlite_gate.give_transfer_consent(
        dep.id,
        "obama",
        recipient_id=vendor.id,
        method="electronic_signature",
        form_sha256="ab" * 32,
        egress=False,
        disclosure=True,
    )
    purpose = given.receipt["receipt"]["services"][0]["purposes"][0]  # type: ignore[index]
    assert purpose["thirdPartyDisclosure"] is True and vendor.name in purpose["thirdPartyName"]
    out = sqlite_gate.share(dep.id, vendor.id, everyone=True)
    assert "US-IL-15c" in cites(sqlite_gate, out.event_id)
    # the consent names one recipient: another still needs its own
    other = recipient(sqlite_gate, dep, name="Another Vendor", country="US")
    refused(sqlite_gate, "US-IL-15c", lambda: sqlite_gate.share(dep.id, other.id, everyone=True))


def _earlier_exports_abroad_this_year(
    gate: Gate, deployment_id: str, recipient_id: str, *, people: int
) -> None:
    """Rows as this year's earlier exports abroad left them (an export per person would take
    hours of enrolment): one export, ``people`` pseudonyms."""
    now = datetime.now(UTC)
    with gate.db.transaction() as s:
        s.add(
            t.TransferExport(
                id="exp_" + "e" * 24, operator_id=gate.actor.operator_id,
                deployment_id=deployment_id, recipient_id=recipient_id, act="export",
                people=people, rows=people, canaries=0, cross_border=True,
                scheme="biohash-v1:4096", key_id="0" * 16, wrapped_key=b"\0" * 60,
                file_sha256="0" * 64, created_at=now, created_by="prn_test", event_id="evt_test",
            )
        )  # fmt: skip
        s.flush()
        s.add_all(
            t.TransferItem(export_id="exp_" + "e" * 24, pseudonym=f"{i:032x}", event_id="evt_test")
            for i in range(people)
        )


def test_people_named_must_be_there_and_unknown_recipients_are_not_found(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    from facegate.errors import InvalidInput, NotFound

    dep = ready(sqlite_gate, photo, ("obama",), egress=True)
    rec = recipient(sqlite_gate, dep)
    with pytest.raises(NotFound):
        sqlite_gate.share(dep.id, rec.id, subjects=["nobody"])
    with pytest.raises(NotFound):
        sqlite_gate.share(dep.id, "rcv_" + "0" * 24, everyone=True)
    with pytest.raises(InvalidInput):
        sqlite_gate.share(dep.id, rec.id)  # neither subjects nor everyone
    people(sqlite_gate, dep, photo, ("biden",))  # no egress consent
    with pytest.raises(InvalidInput, match="agreement"):
        sqlite_gate.add_recipient(dep.id, name="Half Recorded", contact="+1 555 0100")
    assert _sent(sqlite_gate) == 0
