"""The consent desk, recognition, the review queue and people's requests in the console:
a printed form binds the notice's hash; a signed form is recorded by its SHA-256 only; the
receipt hands over the access code with a QR code to the portal (the configured public
address when there is one); faces are enrolled and verified from an upload with the
score, threshold and decision in words; two different reviewers name a person; an
answer to a request is judged like any other act."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from lawful import consent
from web_console import live_deployment, login, post, staff

from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.web import printing

Photo = Callable[[str], bytes]
SCAN = b"%PDF-1.4 a scanned, signed consent form"


def _desk_consent(gate: Gate, dep: str, subject: str, **extra: object) -> object:
    c = login(gate, "Li Na")
    token_page = f"/console/desk/{dep}"
    data = {"subject": subject, "method": "signed_form", "adult": "attested", **extra}
    return post(
        c,
        f"/console/desk/{dep}/consent",
        data,
        form_page=token_page,
        files={"form_file": ("form.pdf", SCAN, "application/pdf")},
    )


def test_the_printed_form_names_the_notice_by_its_hash(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    for language in ("zh-CN", "en"):
        r = c.get(f"/console/desk/{dep}/form.pdf?language={language}")
        assert r.status_code == 200 and r.content.startswith(b"%PDF-")
        assert r.headers["content-type"] == "application/pdf"
    clerk = sqlite_gate.get_principal(staff(sqlite_gate)["Li Na"])
    assert clerk is not None
    html = printing.consent_form_html(sqlite_gate.as_actor(clerk), dep, "en")
    assert sqlite_gate.notice(dep).sha256 in html and "Signature" in html
    assert c.get(f"/console/desk/{dep}/form.pdf?language=fr").status_code == 400


def test_a_consent_is_recorded_by_the_forms_hash_and_hands_over_the_code(
    sqlite_gate: Gate,
) -> None:
    dep = live_deployment(sqlite_gate)
    r = _desk_consent(sqlite_gate, dep, "flat-7")
    assert r.status_code == 201  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    code = re.search(r'id="access-code">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    assert sqlite_gate.subject_view(code)["deployment"]["id"] == dep  # type: ignore[index]
    assert 'class="qr"' in html and "svg" in html
    assert code not in html.replace(f'id="access-code">{code}<', "")  # not in the QR's text
    with sqlite_gate.db.read() as s:
        row = s.query(t.Consent).one()
        assert row.form_sha256 == hashlib.sha256(SCAN).hexdigest()  # the hash, not the file
    with open(str(sqlite_gate.db.engine.url.database), "rb") as db:
        assert SCAN not in db.read()  # the scan itself is nowhere in the database


def test_a_field_sent_twice_at_the_desk_is_refused_and_records_nothing(
    sqlite_gate: Gate,
) -> None:
    dep = live_deployment(sqlite_gate)
    before = sqlite_gate.counts()
    r = _desk_consent(sqlite_gate, dep, "flat-9", method=["signed_form", "electronic"])
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    assert "sent more than once" in r.text  # type: ignore[attr-defined]
    assert sqlite_gate.counts() == before
    assert _desk_consent(sqlite_gate, dep, "flat-9").status_code == 201  # type: ignore[attr-defined]


def test_the_receipts_qr_code_points_at_the_public_address(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    sqlite_gate.settings.api.public_url = "https://gate.example.org"  # type: ignore[misc]
    try:
        html = _desk_consent(sqlite_gate, dep, "flat-8").text  # type: ignore[attr-defined]
        public = login(sqlite_gate, "Li Na").get(f"/d/{dep}").text
    finally:
        sqlite_gate.settings.api.public_url = None  # type: ignore[misc]
    assert "https://gate.example.org/d/" in public
    assert 'class="qr"' in html


def test_a_missing_fact_or_a_child_without_a_guardian_is_refused_on_the_desk(
    sqlite_gate: Gate,
) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Li Na")
    page = f"/console/desk/{dep}"
    no_form = post(
        c,
        f"/console/desk/{dep}/consent",
        {"subject": "flat-9", "method": "signed_form", "adult": "attested"},
        form_page=page,
    )
    assert no_form.status_code == 400 and "form_sha256 is required" in no_form.text
    child = _desk_consent(sqlite_gate, dep, "flat-10", adult="age", age="9")
    assert child.status_code == 403 and "CN-FR-6" in child.text  # type: ignore[attr-defined]
    guardian = post(
        c,
        f"/console/desk/{dep}/consent",
        {
            "subject": "flat-10",
            "method": "signed_form",
            "adult": "age",
            "age": "9",
            "guardian": "Her mother, Chen Jing",
        },
        form_page=page,
        files={
            "form_file": ("f.pdf", SCAN, "application/pdf"),
            "guardian_file": ("g.pdf", SCAN + b" guardian", "application/pdf"),
        },
    )
    assert guardian.status_code == 201, guardian.text
    assert sqlite_gate.counts()["consents"] == 1


def test_a_refusal_keeps_nothing_about_the_person(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    before = sqlite_gate.counts()
    r = post(
        login(sqlite_gate, "Li Na"),
        f"/console/desk/{dep}/refusal",
        {"how": "said no at the desk"},
        form_page=f"/console/desk/{dep}",
    )
    assert r.status_code == 200 and "The refusal is recorded" in r.text
    after = sqlite_gate.counts()
    assert after["subjects"] == before["subjects"] == 0
    assert after["ledger_entries"] == before["ledger_entries"] + 1


def test_enroll_and_verify_by_upload_show_score_threshold_and_decision(
    sqlite_gate: Gate, photo: Photo
) -> None:
    dep = live_deployment(sqlite_gate)
    consent(sqlite_gate, dep, "flat-7")
    c = login(sqlite_gate, "Li Na")
    page = f"/console/faces/{dep}"

    def send(act: str, subject: str, image: bytes) -> str:
        r = post(
            c,
            f"/console/faces/{dep}/{act}",
            {"subject": subject},
            form_page=page,
            files={"photo": ("p.jpg", image, "image/jpeg")},
        )
        assert r.status_code == 200, r.text
        return r.text

    enrolled = send("enroll", "flat-7", photo("fixtures/obama.jpg"))
    assert "Enrolled" in enrolled and "The photo is not kept" in enrolled
    same = send("verify", "flat-7", photo("fixtures/obama2.jpg"))
    score = re.search(r'<meter min="0" max="1" value="([0-9.]+)" low="([0-9.]+)"', same)
    assert score and float(score.group(1)) >= float(score.group(2))
    assert "This is very likely flat-7." in same
    other = send("verify", "flat-7", photo("fixtures/biden.jpg"))
    assert "No match" in other and "This is not flat-7" in other
    stranger = post(
        c,
        f"/console/faces/{dep}/enroll",
        {"subject": "flat-99"},
        form_page=page,
        files={"photo": ("p.jpg", photo("fixtures/biden.jpg"), "image/jpeg")},
    )
    assert stranger.status_code in (403, 404)  # no consent: refused before the face is read
    assert sqlite_gate.counts()["templates"] == 1


def test_two_reviewers_name_the_person_in_the_queue(sqlite_gate: Gate, photo: Photo) -> None:
    dep = live_deployment(
        sqlite_gate,
        name="Station",
        location="office",
        capabilities=["verify", "remote_identification"],
    )
    consent(sqlite_gate, dep, "obama")
    sqlite_gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    found = sqlite_gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.decision == "pending"
    idn = found.identification_id
    operator = login(sqlite_gate, "Li Na")
    assert "Reviewers only" in operator.get("/console/review").text
    denied = post(operator, f"/console/review/{idn}", {"decision": "confirm"})
    assert denied.status_code == 403
    first = post(
        login(sqlite_gate, "Reviewer One"), f"/console/review/{idn}", {"decision": "confirm"}
    )
    assert "A second, different reviewer must confirm" in first.text
    assert "obama" not in first.text
    again = login(sqlite_gate, "Reviewer One").get("/console/review").text
    assert "You reviewed it" in again and "Reviewer One" in again
    second = post(
        login(sqlite_gate, "Reviewer Two"), f"/console/review/{idn}", {"decision": "confirm"}
    )
    assert "Confirmed by two reviewers: the person is obama." in second.text
    assert sqlite_gate.pending_reviews() == []


def test_requests_count_down_and_an_answer_needs_reasons(sqlite_gate: Gate, photo: Photo) -> None:
    dep = live_deployment(sqlite_gate)
    code = consent(sqlite_gate, dep, "flat-7").access_code
    lodged = sqlite_gate.subject_complaint(code, "The camera also films the playground.")
    c = login(sqlite_gate, "Li Na")
    page = c.get("/console/requests").text
    assert "The camera also films the playground." in page
    assert f'datetime="{lodged.due_at.isoformat()}"' in page and "left</time>" in page
    empty = post(c, f"/console/requests/{lodged.request_id}/answer", {"reason": ""})
    assert empty.status_code == 403 and "CN-PIPL-44" in empty.text
    done = post(
        c,
        f"/console/requests/{lodged.request_id}/answer",
        {"reason": "We turned the camera away from the playground."},
    )
    assert done.status_code == 200 and "Answered (answered)" in done.text
    assert sqlite_gate.subject_requests(code)[0]["status"] == "answered"
    reviewer = login(sqlite_gate, "Reviewer One")
    assert "Send the answer" not in reviewer.get("/console/requests").text
