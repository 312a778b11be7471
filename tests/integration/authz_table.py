"""What each route of the service answers to whom: the expectations of the authorization
matrix (test_authz_matrix.py). A route of the app missing here fails the matrix.

For a route that takes an API key, a row says which roles may use it and the status they get
(``ok``); every other role of the same operator gets ``denied`` (403 ``forbidden``, or what
the row says); another operator's key gets 404 on a resource of A (``cross="resource"``) or
acts on its own operator only (``cross="own"``: the answer names nothing of A's); a key
scoped to another deployment gets 404 on a deployment's routes and 403 elsewhere; a forged,
revoked or expired key, the key of a revoked principal and an access code sent as a key get
401. Public routes answer the same whoever asks; people's routes answer the access code's
holder only; web pages other than those of :data:`WEB_PUBLIC` need a web session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from authz_world import OBAMA, Req, World
from lawful import CN_SPEC, NECESSITY, OPERATOR, form
from transfers_support import agreement

from facegate.actors import ROLES, Role

ALL: frozenset[Role] = frozenset(ROLES)
ADMIN: frozenset[Role] = frozenset({"admin"})
DESK: frozenset[Role] = frozenset({"admin", "operator"})  # record_consent, process_faces
ERASERS: frozenset[Role] = frozenset({"admin", "operator", "dpo"})  # erase, answer_requests
SUPERVISORS: frozenset[Role] = frozenset({"admin", "dpo"})  # supervise


@dataclass(frozen=True)
class Row:
    allowed: frozenset[Role]
    ok: int
    make: Callable[[World], Req]
    denied: int = 403
    cross: Literal["resource", "own"] = "resource"
    #: error code for an allowed role whose act the law (not the role) decides
    ok_error: str | None = None
    #: what another operator's admin gets where admins are not allowed: the role is
    #: refused before anything is looked up (403), unless the row says otherwise
    cross_denied: int = 403


@dataclass(frozen=True)
class Public:
    make: Callable[[World], Req]
    ok: int = 200


@dataclass(frozen=True)
class Person:
    """A route for people: the access code decides whose data it is."""

    make: Callable[[World, str], Req]  # (world, the holder's code) -> request
    ok: int = 200
    #: whether it ends what is held about the holder (their code then opens nothing)
    ends: bool = False


@dataclass(frozen=True)
class Service:
    """A CompreFace-compatible route: a service key (x-api-key) scoped to one deployment;
    its principal's role decides as everywhere."""

    allowed: frozenset[Role]
    ok: int
    make: Callable[[World], Req]


def _d(w: World, suffix: str = "", dep: str | None = None) -> str:
    return f"/v1/deployments/{dep or w.dep}{suffix}"


def _fresh(suffix: str, body: Callable[[World], object] | None = None) -> Callable[[World], Req]:
    """A POST/PATCH on a fresh live deployment of A."""

    def make(w: World) -> Req:
        return Req("POST", _d(w, suffix, w.live()), json=body(w) if body else None)

    return make


def _on_person(suffix: str, **extra: object) -> Callable[[World], Req]:
    def make(w: World) -> Req:
        ref, _ = w.person()
        return Req("POST", _d(w, suffix), json={"subject_ref": ref, **extra})

    return make


def _enroll(w: World) -> Req:
    ref, _ = w.person()
    return Req("POST", _d(w, "/enroll"), data={"subject_ref": ref}, files=w.image())


def _encrypted(suffix: str) -> Callable[[World], Req]:
    def make(w: World) -> Req:
        ref, _ = w.person()
        blob = {"ciphertext": ("c.bin", b"ciphertext", "application/octet-stream")}
        return Req("POST", _d(w, suffix), data={"subject_ref": ref}, files=blob)

    return make


def _challenge_frames(w: World) -> Req:
    ref, _ = w.person()
    issued = w.gate.liveness_challenge(w.dep, ref, act="enroll")
    frames = [("frames", ("f.jpg", w.photo(OBAMA), "image/jpeg"))] * 2
    return Req("POST", _d(w, f"/liveness/challenges/{issued.challenge_id}/frames"), files=frames)


def _flag(w: World) -> Req:
    done = w.gate.verify(w.dep, "alice", w.photo("fixtures/obama2.jpg"))
    assert done.decision == "match"
    return Req("POST", _d(w, f"/events/{done.event_id}/flag"), json={"verdict": "false_accept"})


_CF = "/api/v1/recognition"


def _svc_person(w: World) -> str:
    return w.person(w.service)[0]


def _svc_face(w: World) -> str:
    return w.enrolled(w.service)[1]


def _delete_all(w: World) -> Req:
    _svc_person(w)
    return Req("DELETE", f"{_CF}/subjects")


def _two(w: World) -> dict[str, tuple[str, bytes, str]]:
    return {
        "source_image": ("a.jpg", w.photo(OBAMA), "image/jpeg"),
        "target_image": ("b.jpg", w.photo("fixtures/obama2.jpg"), "image/jpeg"),
    }


def _purge(w: World) -> Req:
    w.identification()  # one more log, so that each allowed role has one to delete
    before = (w.now[0] + timedelta(seconds=1)).isoformat()
    return Req("POST", _d(w, "/identification-logs/purge", w.remote), json={"before": before})


def _transfer_consent(w: World) -> Req:
    ref, _ = w.person(w.egress)
    body = {
        "subject_ref": ref,
        "recipient_id": w.recipient(),
        "method": "signed_form",
        "form_sha256": form(ref),
        "egress": True,
        "disclosure": True,
    }
    return Req("POST", _d(w, "/transfer-consents", w.egress), json=body)


def json_safe(terms: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in terms.items()}


def _spec(w: World) -> dict[str, object]:
    return {**CN_SPEC, "name": w.name("Draft")}


API: dict[tuple[str, str], Row | Public | Person | Service] = {
    # --- deployments ----------------------------------------------------------------------
    ("POST", "/v1/deployments"): Row(
        DESK, 201, lambda w: Req("POST", "/v1/deployments", json=_spec(w)), cross="own"
    ),
    ("GET", "/v1/deployments"): Row(ALL, 200, lambda w: Req("GET", "/v1/deployments"), cross="own"),
    ("GET", "/v1/deployments/{deployment_id}"): Row(ALL, 200, lambda w: Req("GET", _d(w))),
    ("PATCH", "/v1/deployments/{deployment_id}"): Row(
        DESK,
        200,
        lambda w: Req("PATCH", _d(w, "", w.live()), json={"alternative": "the staffed desk"}),
    ),
    ("POST", "/v1/deployments/{deployment_id}/end"): Row(
        DESK, 200, _fresh("/end", lambda w: {"reason": "The building was sold last month."})
    ),
    ("GET", "/v1/deployments/{deployment_id}/pia"): Row(
        ALL, 200, lambda w: Req("GET", _d(w, "/pia"))
    ),
    ("POST", "/v1/deployments/{deployment_id}/pia/sign"): Row(
        frozenset({"dpo"}),
        200,
        lambda w: Req("POST", _d(w, "/pia/sign", w.draft()), json={"necessity": NECESSITY}),
    ),
    ("GET", "/v1/deployments/{deployment_id}/notice"): Row(
        ALL, 200, lambda w: Req("GET", _d(w, "/notice"))
    ),
    # --- the consent desk and erasure -----------------------------------------------------
    ("POST", "/v1/deployments/{deployment_id}/consents"): Row(
        DESK, 201, lambda w: Req("POST", _d(w, "/consents"), json=w.consent_body())
    ),
    ("POST", "/v1/deployments/{deployment_id}/refusals"): Row(
        DESK, 201, lambda w: Req("POST", _d(w, "/refusals"), json={"method": "verbal"})
    ),
    ("POST", "/v1/deployments/{deployment_id}/consents/withdraw"): Row(
        DESK, 200, _on_person("/consents/withdraw")
    ),
    ("POST", "/v1/deployments/{deployment_id}/erase"): Row(ERASERS, 200, _on_person("/erase")),
    ("POST", "/v1/deployments/{deployment_id}/purpose-ended"): Row(
        ERASERS, 200, _on_person("/purpose-ended")
    ),
    ("POST", "/v1/deployments/{deployment_id}/holds"): Row(
        SUPERVISORS, 200, _on_person("/holds", ground="legal_obligation")
    ),
    # --- faces ----------------------------------------------------------------------------
    ("POST", "/v1/deployments/{deployment_id}/enroll"): Row(DESK, 201, _enroll),
    ("POST", "/v1/deployments/{deployment_id}/verify"): Row(
        DESK,
        200,
        lambda w: Req(
            "POST",
            _d(w, "/verify"),
            data={"subject_ref": "alice"},
            files=w.image("fixtures/obama2.jpg"),
        ),
    ),
    # encrypted verification (issue 16): the world's deployment has no key ceremony, so an
    # allowed role is let through to "not set up" (test_encrypted_service.py decides faces)
    ("GET", "/v1/deployments/{deployment_id}/encrypted/public-key"): Row(
        DESK, 404, lambda w: Req("GET", _d(w, "/encrypted/public-key")), ok_error="not_found"
    ),
    ("POST", "/v1/deployments/{deployment_id}/encrypted/enroll"): Row(
        DESK, 404, _encrypted("/encrypted/enroll"), ok_error="not_found"
    ),
    ("POST", "/v1/deployments/{deployment_id}/encrypted/verify"): Row(
        DESK, 404, _encrypted("/encrypted/verify"), ok_error="not_found"
    ),
    ("POST", "/v1/deployments/{deployment_id}/encrypted/identify"): Row(
        DESK, 404, _encrypted("/encrypted/identify"), ok_error="not_found"
    ),
    ("POST", "/v1/deployments/{deployment_id}/identify"): Row(
        DESK, 200, lambda w: Req("POST", _d(w, "/identify"), files=w.image("fixtures/obama2.jpg"))
    ),
    # --- reviews and people's requests ----------------------------------------------------
    ("GET", "/v1/identifications"): Row(
        ALL, 200, lambda w: Req("GET", "/v1/identifications"), cross="own"
    ),
    # a non-reviewer's review of a match is a refusal the law decides (EU-AI-14) on the
    # match it names, so another operator's principal finds no such match
    ("POST", "/v1/identifications/{identification_id}/reviews"): Row(
        frozenset({"reviewer"}),
        200,
        lambda w: Req(
            "POST", f"/v1/identifications/{w.identification()}/reviews", json={"confirm": True}
        ),
        cross_denied=404,
    ),
    ("GET", "/v1/requests"): Row(ALL, 200, lambda w: Req("GET", "/v1/requests"), cross="own"),
    ("POST", "/v1/requests/{request_id}/answer"): Row(
        ERASERS,
        200,
        lambda w: Req(
            "POST",
            f"/v1/requests/{w.request_id()}/answer",
            json={"reason": "The record was corrected on the day you wrote."},
        ),
    ),
    # --- the operator, principals, keys ---------------------------------------------------
    ("GET", "/v1/operator"): Row(ALL, 200, lambda w: Req("GET", "/v1/operator"), cross="own"),
    ("PUT", "/v1/operator"): Row(
        ADMIN, 200, lambda w: Req("PUT", "/v1/operator", json=OPERATOR), cross="own"
    ),
    ("GET", "/v1/principals"): Row(ALL, 200, lambda w: Req("GET", "/v1/principals"), cross="own"),
    ("POST", "/v1/principals"): Row(
        ADMIN,
        201,
        lambda w: Req("POST", "/v1/principals", json={"name": w.name("new"), "role": "auditor"}),
        cross="own",
    ),
    ("POST", "/v1/principals/{principal_id}/revoke"): Row(
        ADMIN, 200, lambda w: Req("POST", f"/v1/principals/{w.principal()}/revoke")
    ),
    ("GET", "/v1/apikeys"): Row(ALL, 200, lambda w: Req("GET", "/v1/apikeys"), cross="own"),
    # every principal may give itself another key (of its own role, expiring)
    ("POST", "/v1/apikeys"): Row(
        ALL, 201, lambda w: Req("POST", "/v1/apikeys", json={"label": "spare"}), cross="own"
    ),
    # someone else's key is revoked by an admin only; to others it does not exist
    ("POST", "/v1/apikeys/{key_id}/revoke"): Row(
        ADMIN, 200, lambda w: Req("POST", f"/v1/apikeys/{w.others_key()}/revoke"), denied=404
    ),
    ("POST", "/v1/selfcheck"): Row(
        SUPERVISORS, 200, lambda w: Req("POST", "/v1/selfcheck"), cross="own"
    ),
    # the assessment in force cannot be deleted: an allowed role reaches that check (409)
    ("POST", "/v1/deployments/{deployment_id}/pia/{version}/delete"): Row(
        SUPERVISORS, 409, lambda w: Req("POST", _d(w, "/pia/1/delete"))
    ),
    # a log of a search made just now (cn keeps no minimum): an allowed role deletes it
    ("POST", "/v1/deployments/{deployment_id}/identification-logs/purge"): Row(
        SUPERVISORS, 200, _purge
    ),
    # --- recognition (issue 17) -----------------------------------------------------------
    ("POST", "/v1/deployments/{deployment_id}/detect"): Row(
        DESK, 200, lambda w: Req("POST", _d(w, "/detect"), files=w.image())
    ),
    ("POST", "/v1/deployments/{deployment_id}/compare"): Row(
        DESK,
        200,
        lambda w: Req(
            "POST",
            _d(w, "/compare"),
            files={"source": _two(w)["source_image"], "target": _two(w)["target_image"]},
        ),
    ),
    ("POST", "/v1/deployments/{deployment_id}/liveness/challenges"): Row(
        DESK,
        201,
        lambda w: Req(
            "POST",
            _d(w, "/liveness/challenges"),
            json={"subject_ref": w.person()[0], "act": "enroll"},
        ),
    ),
    ("POST", "/v1/deployments/{deployment_id}/liveness/challenges/{challenge_id}/frames"): Row(
        DESK, 200, _challenge_frames
    ),
    ("POST", "/v1/deployments/{deployment_id}/events/{event_id}/flag"): Row(DESK, 201, _flag),
    ("GET", "/v1/deployments/{deployment_id}/threshold-report"): Row(
        ALL, 200, lambda w: Req("GET", _d(w, "/threshold-report"))
    ),
    ("GET", "/v1/deployments/{deployment_id}/alerts"): Row(
        ALL, 200, lambda w: Req("GET", _d(w, "/alerts"))
    ),
    # --- the CompreFace-compatible API (issue 17): service keys ---------------------------
    ("POST", f"{_CF}/subjects"): Service(
        DESK, 201, lambda w: Req("POST", f"{_CF}/subjects", json={"subject": _svc_person(w)})
    ),
    ("GET", f"{_CF}/subjects"): Service(ALL, 200, lambda w: Req("GET", f"{_CF}/subjects")),
    ("GET", f"{_CF}/subjects/"): Service(ALL, 200, lambda w: Req("GET", f"{_CF}/subjects/")),
    # a reference is bound to the person's consent: renaming is refused to everyone allowed
    ("PUT", f"{_CF}/subjects/{{subject}}"): Service(
        ALL, 409, lambda w: Req("PUT", f"{_CF}/subjects/{_svc_person(w)}", json={"subject": "x"})
    ),
    ("DELETE", f"{_CF}/subjects/{{subject}}"): Service(
        ERASERS, 200, lambda w: Req("DELETE", f"{_CF}/subjects/{_svc_person(w)}")
    ),
    # someone to erase, so that a role that may not erase meets the refusal
    ("DELETE", f"{_CF}/subjects"): Service(ERASERS, 200, _delete_all),
    ("POST", f"{_CF}/faces"): Service(
        DESK,
        201,
        lambda w: Req(
            "POST",
            f"{_CF}/faces?subject={_svc_person(w)}",
            files={"file": ("a.jpg", w.photo(OBAMA), "image/jpeg")},
        ),
    ),
    ("GET", f"{_CF}/faces"): Service(ALL, 200, lambda w: Req("GET", f"{_CF}/faces")),
    ("DELETE", f"{_CF}/faces"): Service(
        ERASERS, 200, lambda w: Req("DELETE", f"{_CF}/faces?subject={w.enrolled(w.service)[0]}")
    ),
    ("DELETE", f"{_CF}/faces/{{image_id}}"): Service(
        ERASERS, 200, lambda w: Req("DELETE", f"{_CF}/faces/{_svc_face(w)}")
    ),
    ("POST", f"{_CF}/faces/{{image_id}}/verify"): Service(
        DESK,
        200,
        lambda w: Req(
            "POST",
            f"{_CF}/faces/{_svc_face(w)}/verify",
            files={"file": ("b.jpg", w.photo("fixtures/obama2.jpg"), "image/jpeg")},
        ),
    ),
    ("POST", f"{_CF}/recognize"): Service(
        DESK,
        200,
        lambda w: Req(
            "POST",
            f"{_CF}/recognize",
            files={"file": ("b.jpg", w.photo("fixtures/obama2.jpg"), "image/jpeg")},
        ),
    ),
    ("POST", "/api/v1/detection/detect"): Service(
        DESK,
        200,
        lambda w: Req(
            "POST",
            "/api/v1/detection/detect",
            files={"file": ("b.jpg", w.photo(OBAMA), "image/jpeg")},
        ),
    ),
    ("POST", "/api/v1/verification/verify"): Service(
        DESK, 200, lambda w: Req("POST", "/api/v1/verification/verify", files=_two(w))
    ),
    # --- transfers (issue 14) -------------------------------------------------------------
    ("POST", "/v1/deployments/{deployment_id}/recipients"): Row(
        DESK,
        201,
        lambda w: Req(
            "POST",
            _d(w, "/recipients", w.egress),
            json=json_safe(agreement(name=w.name("Recipient Co"))),
        ),
    ),
    ("GET", "/v1/deployments/{deployment_id}/recipients"): Row(
        ALL, 200, lambda w: Req("GET", _d(w, "/recipients", w.egress))
    ),
    ("POST", "/v1/deployments/{deployment_id}/recipients/{recipient_id}/revoke"): Row(
        DESK,
        200,
        lambda w: Req(
            "POST",
            _d(w, f"/recipients/{w.recipient()}/revoke", w.egress),
            json={"reason": "The agreement ended last week."},
        ),
    ),
    ("POST", "/v1/deployments/{deployment_id}/transfer-consents"): Row(
        DESK, 201, _transfer_consent
    ),
    ("POST", "/v1/deployments/{deployment_id}/shares"): Row(
        DESK,
        201,
        lambda w: Req(
            "POST",
            _d(w, "/shares", w.egress),
            json={"recipient_id": w.recipient(), "everyone": True},
        ),
    ),
    ("POST", "/v1/deployments/{deployment_id}/exports"): Row(
        DESK,
        201,
        lambda w: Req(
            "POST",
            _d(w, "/exports", w.egress),
            json={"recipient_id": w.recipient(), "everyone": True},
        ),
    ),
    ("POST", "/v1/traces"): Row(
        SUPERVISORS,
        200,
        lambda w: Req("POST", "/v1/traces", files={"file": ("leak.json", b"[]", "text/plain")}),
        cross="own",
    ),
    ("GET", "/v1/alerts"): Row(ALL, 200, lambda w: Req("GET", "/v1/alerts"), cross="own"),
    # no alert is raised in this world: an allowed role reaches the look-up (404)
    ("POST", "/v1/alerts/{alert_id}/clear"): Row(
        SUPERVISORS,
        404,
        lambda w: Req(
            "POST",
            "/v1/alerts/alr_none/clear",
            json={"reason": "A false alarm: the auditor's test."},
        ),
    ),
    # --- the ledger -----------------------------------------------------------------------
    ("GET", "/v1/ledger/verify"): Row(
        ALL, 200, lambda w: Req("GET", "/v1/ledger/verify"), cross="own"
    ),
    ("GET", "/v1/ledger/entries/{index}"): Row(
        ALL, 200, lambda w: Req("GET", f"/v1/ledger/entries/{w.entry}")
    ),
    ("GET", "/v1/ledger/evidence"): Row(
        ALL, 200, lambda w: Req("GET", f"/v1/ledger/evidence?deployment={w.dep}")
    ),
    # --- public ---------------------------------------------------------------------------
    ("GET", "/v1/public/deployments/{deployment_id}"): Public(
        lambda w: Req("GET", f"/v1/public/deployments/{w.dep}")
    ),
    ("GET", "/v1/ledger/checkpoint"): Public(lambda w: Req("GET", "/v1/ledger/checkpoint")),
    ("GET", "/v1/ledger/key"): Public(lambda w: Req("GET", "/v1/ledger/key")),
    ("GET", "/v1/ledger/checkpoint/{size}"): Public(
        lambda w: Req("GET", f"/v1/ledger/checkpoint/{w.gate.counts()['ledger_entries']}")
    ),
    ("GET", "/v1/ledger/consistency"): Public(lambda w: Req("GET", "/v1/ledger/consistency?old=1")),
    ("GET", "/v1/ledger/inclusion"): Public(lambda w: Req("GET", "/v1/ledger/inclusion?index=0")),
    # from a witness nobody registered: refused alike whoever sends it
    ("POST", "/v1/ledger/cosignatures"): Public(
        lambda w: Req("POST", "/v1/ledger/cosignatures", content=b"not a signed note\n"),
        ok=400,
    ),
    ("GET", "/checkpoint"): Public(lambda w: Req("GET", "/checkpoint")),
    ("GET", "/tile/{path:path}"): Public(lambda w: Req("GET", "/tile/0/000.p/1")),
    ("GET", "/healthz"): Public(lambda w: Req("GET", "/healthz")),
    ("GET", "/metrics"): Public(lambda w: Req("GET", "/metrics")),
    ("GET", "/openapi.json"): Public(lambda w: Req("GET", "/openapi.json")),
    ("HEAD", "/openapi.json"): Public(lambda w: Req("HEAD", "/openapi.json")),
    ("GET", "/static"): Public(lambda w: Req("GET", "/static/site.css")),
    # --- people ---------------------------------------------------------------------------
    ("GET", "/v1/subject/me"): Person(lambda w, code: Req("GET", "/v1/subject/me")),
    ("GET", "/v1/subject/me/evidence"): Person(
        lambda w, code: Req("GET", "/v1/subject/me/evidence")
    ),
    ("POST", "/v1/subject/me/withdraw"): Person(
        lambda w, code: Req("POST", "/v1/subject/me/withdraw"), ends=True
    ),
    ("POST", "/v1/subject/me/erase"): Person(
        lambda w, code: Req("POST", "/v1/subject/me/erase"), ends=True
    ),
    ("POST", "/v1/subject/me/complaints"): Person(
        lambda w, code: Req(
            "POST", "/v1/subject/me/complaints", json={"text": "You showed my photo at the desk."}
        ),
        ok=201,
    ),
    ("POST", "/v1/subject/me/corrections"): Person(
        lambda w, code: Req(
            "POST", "/v1/subject/me/corrections", json={"text": "The gate took me for my brother."}
        ),
        ok=201,
    ),
}

#: web pages anyone may open (everything else of the web needs a console or portal session)
WEB_PUBLIC = {
    ("GET", "/"),
    ("GET", "/d/{deployment_id}"),
    ("GET", "/d/{deployment_id}/qr.svg"),
    ("GET", "/portal"),
    ("GET", "/console/login"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/regulator"),
}
