"""Demo data and a narrated walk through the whole lawful lifecycle, on real photos."""

from __future__ import annotations

from importlib import resources
from typing import Any

from rich.console import Console
from rich.progress import Progress

from facegate.config import Settings
from facegate.errors import ConfigError, FacegateError
from facegate.gate import DEFAULT_OPERATOR, Gate

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


def seed_demo(gate: Gate, *, console: Console | None) -> dict[str, Any]:
    """Create the demo deployment with five consenting, enrolled people (once)."""
    existing = [d for d in gate.list_deployments() if d.name == DEMO_NAME]
    key = gate.issue_api_key(DEFAULT_OPERATOR, label="demo").key
    if existing:
        return {"deployment_id": existing[0].id, "api_key": key, "enrolled": 0}
    dep = gate.create_deployment(
        name=DEMO_NAME,
        purpose="Residents open the compound gate with their face instead of a key card",
        necessity="Key cards are often lent or lost; residents asked for hands-free entry.",
        location="residential_compound",
        alternative="key card or the staffed gatehouse, on request",
    )
    enrolled = 0
    with Progress(disable=console is None, console=console) as progress:
        task = progress.add_task("enrolling demo residents", total=len(DEMO_PEOPLE))
        for person, photo in DEMO_PEOPLE.items():
            gate.give_consent(dep.id, person, notice_version=dep.notice_version)
            gate.enroll(dep.id, person, demo_photo(photo))
            enrolled += 1
            progress.advance(task)
    _say(console, f"demo deployment [bold]{dep.id}[/] with {enrolled} enrolled residents")
    return {"deployment_id": dep.id, "api_key": key, "enrolled": enrolled}


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
        dep = gate.create_deployment(
            name="Demo: office lobby",
            purpose="Staff pass the lobby turnstile by face instead of a badge",
            location="office",
            alternative="staff badge at the staffed desk",
        )
        step(
            "register a deployment (checked against the cn pack)",
            {"deployment": dep.id, "notes": list(dep.notes)},
        )
        notice = gate.notice(dep.id)
        step(
            "publish the notice people read first",
            {"version": notice.version, "sha256": notice.sha256},
        )
        try:
            gate.enroll(dep.id, "barack", photo["obama.jpg"])
        except FacegateError as refused:
            step("try to enroll without consent: refused", {"error": str(refused)})
        receipt = gate.give_consent(dep.id, "barack", notice_version=notice.version)
        step("record Barack's signed consent", {"access_code": receipt.access_code})
        gate.give_consent(dep.id, "joe", notice_version=notice.version)
        step("enroll Barack", gate.enroll(dep.id, "barack", photo["obama.jpg"]).to_dict())
        gate.enroll(dep.id, "joe", photo["biden.jpg"])
        v = gate.verify(dep.id, "barack", photo["obama2.jpg"])
        step("verify another photo of Barack", {"decision": v.decision, "score": v.score})
        v = gate.verify(dep.id, "barack", photo["biden.jpg"])
        step("verify Joe's photo as Barack", {"decision": v.decision, "score": v.score})
        i = gate.identify(dep.id, photo["obama3.jpg"])
        step("identify a third photo of Barack", {"who": i.subject_ref, "score": i.score})
        i = gate.identify(dep.id, photo["rose_leslie.jpg"])  # not enrolled here
        step("identify a stranger", {"who": i.decision, "score": i.score})
        w = gate.withdraw_consent(dep.id, "barack")
        step("Barack withdraws: templates erased, key destroyed", w.to_dict())
        try:
            gate.verify(dep.id, "barack", photo["obama2.jpg"])
        except FacegateError as refused:
            step("verify Barack again: refused", {"error": str(refused)})
        report = gate.verify_ledger()
        step("verify the ledger", {"ok": report.ok, "entries": report.size})
    return {"deployment_id": dep.id, "steps": steps}
