"""Demo data and a narrated walk through the whole lawful lifecycle, on real photos."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from importlib import resources
from typing import Any

from rich.console import Console
from rich.progress import Progress

from facegate.config import Settings
from facegate.errors import ConfigError, FacegateError
from facegate.gate import Gate
from facegate.web.passwords import set_password

DEMO_NAME = "Demo: residential compound gate"
#: people enrolled in the demo deployment, with the photo each enrolls
DEMO_PEOPLE = {
    "obama": "obama.jpg",
    "biden": "biden.jpg",
    "kit_harington": "kit_harington.jpg",
    "rose_leslie": "rose_leslie.jpg",
    "alex_lacamoire": "alex_lacamoire.jpg",
}


def demo_photo(name: str) -> bytes:
    """A demo photo shipped in the package (``facegate/demo``, credits in CREDITS.md), so the
    demo runs wherever facegate is installed."""
    try:
        return (resources.files("facegate") / "demo" / name).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"the demo photo {name} is missing from the installed package",
            advice="Reinstall facegate: pip install --force-reinstall facegate",
        ) from exc


def _say(console: Console | None, text: str) -> None:
    if console is not None:
        console.print(text)


#: the demo operator, as notices and receipts name it
DEMO_OPERATOR = {
    "name": "Demo Property Management Ltd",
    "contact": "+86 21 5555 0100 (management office, gate 1)",
    "dpo": "Li Ming, data protection officer, dpo@demo-property.example",
    "email": "privacy@demo-property.example",
    "address": "1 Demo Road, Shanghai",
}
#: the impact assessment the demo's staff wrote (people write it; facegate drafts nothing)
DEMO_ANSWERS = {
    "lawfulness": "Residents consent separately, in writing, to face entry at the gate; the "
    "key card remains for everyone else. No public place is covered.",
    "impact": "A leak could let someone recognise residents elsewhere; a false match could let "
    "a stranger in. Templates are keyed to this deployment and sealed per resident.",
    "risks": "Theft of the database, misuse beyond the gate, pressure on residents to enrol, "
    "unequal error rates between groups.",
    "safeguards": "No photo is kept; templates are protected and encrypted per person; keys "
    "live apart from the data; every use is ledgered; withdrawal erases at once.",
    "conclusion": "Proportionate: residents asked for hands-free entry, the card stays free.",
}
#: what the demo deployment declares, as the law asks
DEMO_SPEC: dict[str, Any] = {
    "location": "residential_compound",
    "jurisdiction": "cn",
    "legal_basis": "consent",
    "retention_days": 365,
    "capabilities": ["verify", "identify"],
    "capture": "on_request",
    "signage": True,
    "alternative_penalty": False,
    "pia": DEMO_ANSWERS,
}
#: the consent form every demo resident signs (its hash is the written consent's evidence)
DEMO_FORM = b"I agree to use my face to open the compound gate. Signed: (demo resident)"
DEMO_NECESSITY = (
    "Key cards are lent, lost and copied; residents asked for hands-free entry. Face "
    "recognition is offered only to those who ask for it, and the card stays free."
)


def _dpo_key(gate: Gate) -> str:
    """The demo's data protection officer, created once; their key signs the assessment."""
    made = gate.create_principal("Demo DPO", "dpo")
    return made.api_key.key


def _consent(gate: Gate, dep_id: str, person: str) -> Any:
    return gate.give_consent(
        dep_id,
        person,
        method="signed_form",
        form_sha256=hashlib.sha256(DEMO_FORM + person.encode()).hexdigest(),
        adult_attested=True,
    )


def seed_demo(gate: Gate, *, console: Console | None) -> dict[str, Any]:
    """Create the demo deployment with five consenting, enrolled people (once). Its API
    key is minted and printed only when the demo is seeded, never again."""
    existing = [d for d in gate.list_deployments() if d.name == DEMO_NAME]
    if existing:
        return {"deployment_id": existing[0].id, "api_key": None, "enrolled": 0}
    gate.set_operator(**DEMO_OPERATOR)
    operator = gate.create_principal("Demo operator", "operator")
    staff = gate.acting_as(operator.api_key.key)
    dep = staff.create_deployment(
        name=DEMO_NAME,
        purpose="Residents open the compound gate with their face instead of a key card",
        alternative="key card or the staffed gatehouse, on request",
        **DEMO_SPEC,
    )
    gate.acting_as(_dpo_key(gate)).sign_pia(dep.id, necessity=DEMO_NECESSITY, answers=None)
    enrolled = 0
    with Progress(disable=console is None, console=console) as progress:
        task = progress.add_task("enrolling demo residents", total=len(DEMO_PEOPLE))
        for person, photo in DEMO_PEOPLE.items():
            _consent(staff, dep.id, person)
            staff.enroll(dep.id, person, demo_photo(photo))
            enrolled += 1
            progress.advance(task)
    _say(console, f"demo deployment [bold]{dep.id}[/] with {enrolled} enrolled residents")
    password = "-".join(secrets.choice(_WORDS) for _ in range(4))
    set_password(gate, operator.principal.id, password, name=operator.principal.name)
    login = {
        "operator": DEMO_OPERATOR["name"],
        "name": operator.principal.name,
        "password": password,
    }
    return {
        "deployment_id": dep.id,
        "api_key": operator.api_key.key,
        "enrolled": enrolled,
        "login": login,
    }


#: words for the demo's first password (four of them: about 44 bits)
_WORDS = (
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "heron",
    "iris",
    "juniper",
    "kestrel",
    "lotus",
    "maple",
    "nectar",
    "orchid",
    "pebble",
    "quartz",
    "raven",
    "sage",
    "tundra",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "harbor",
    "meadow",
    "summit",
    "canyon",
    "lagoon",
    "prairie",
)


Step = Callable[[str, dict[str, Any]], None]


def run_demo(settings: Settings, *, console: Console | None) -> dict[str, Any]:
    """The lifecycle, step by step; returns what happened at each step."""
    photo = {
        name: demo_photo(name)
        for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "rose_leslie.jpg")
    }
    steps: list[dict[str, Any]] = []

    def step(title: str, outcome: dict[str, Any]) -> None:
        steps.append({"step": title, **outcome})
        _say(console, f"[bold]{len(steps)}. {title}[/]")
        for key, value in outcome.items():
            _say(console, f"     {key}: {value}")

    with Gate.open(settings=settings, create=True) as gate:
        dep_id = _go_live(gate, step)
        _lifecycle(gate, dep_id, photo, step)
    return {"deployment_id": dep_id, "steps": steps}


def _refused(step: Step, title: str, act: Callable[[], object]) -> None:
    try:
        act()
    except FacegateError as refused:
        step(title, {"error": str(refused)})
    else:  # pragma: no cover - each of these acts is unlawful
        raise AssertionError(f"the demo expected a refusal: {title}")


def _go_live(gate: Gate, step: Step) -> str:
    """Name the operator, be refused in a banned place, register a draft, have the DPO
    (not the admin) sign it."""
    gate.set_operator(**DEMO_OPERATOR)
    step("name the operator, its contact and DPO", {"operator": gate.operator().name})
    _refused(
        step,
        "register face recognition in a changing room: refused",
        lambda: gate.create_deployment(
            name="Demo: changing room",
            purpose="Members open lockers",
            alternative="locker key",
            **{**DEMO_SPEC, "location": "changing_room"},
        ),
    )
    dep = gate.create_deployment(
        name="Demo: office lobby",
        purpose="Staff pass the lobby turnstile by face instead of a badge",
        alternative="staff badge at the staffed desk",
        **{**DEMO_SPEC, "location": "office"},
    )
    step(
        "register a draft deployment (judged by the cn pack)",
        {"deployment": dep.id, "status": dep.status, "notes": list(dep.notes)},
    )
    _refused(
        step,
        "ask for consent before the DPO signed: refused",
        lambda: _consent(gate, dep.id, "barack"),
    )
    _refused(
        step,
        "the admin tries to sign the assessment: refused",
        lambda: gate.sign_pia(dep.id, necessity=DEMO_NECESSITY, answers=None),
    )
    live = gate.acting_as(_dpo_key(gate)).sign_pia(dep.id, necessity=DEMO_NECESSITY, answers=None)
    step(
        "the DPO signs the assessment: the deployment goes live",
        {"status": live.status, "notice_version": live.notice_version},
    )
    return dep.id


def _lifecycle(gate: Gate, dep_id: str, photo: dict[str, bytes], step: Step) -> None:
    _refused(
        step,
        "try to enroll without consent: refused",
        lambda: gate.enroll(dep_id, "barack", photo["obama.jpg"]),
    )
    receipt = _consent(gate, dep_id, "barack")
    step("record Barack's signed consent", {"access_code": receipt.access_code})
    _consent(gate, dep_id, "joe")
    step("enroll Barack", gate.enroll(dep_id, "barack", photo["obama.jpg"]).to_dict())
    gate.enroll(dep_id, "joe", photo["biden.jpg"])
    v = gate.verify(dep_id, "barack", photo["obama2.jpg"])
    step("verify another photo of Barack", {"decision": v.decision, "score": v.score})
    v = gate.verify(dep_id, "barack", photo["biden.jpg"])
    step("verify Joe's photo as Barack", {"decision": v.decision, "score": v.score})
    i = gate.identify(dep_id, photo["obama3.jpg"])
    step("identify a third photo of Barack", {"who": i.subject_ref, "score": i.score})
    i = gate.identify(dep_id, photo["rose_leslie.jpg"])  # not enrolled here
    step("identify a stranger", {"who": i.decision})
    w = gate.withdraw_consent(dep_id, "barack")
    step("Barack withdraws: templates erased, key destroyed", w.to_dict())
    _refused(
        step,
        "verify Barack again: refused",
        lambda: gate.verify(dep_id, "barack", photo["obama2.jpg"]),
    )
    report = gate.verify_ledger()
    step("verify the ledger", {"ok": report.ok, "entries": report.size})
