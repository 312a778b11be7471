"""Each party's main journey in a real browser (Debian's Chromium, every non-loopback
request blocked, every CSP violation and script error noted), in both languages, on real
photos, with axe-core on every page (no serious or critical violation):

* an operator registers a deployment with the wizard, is refused in a banned place with the
  rule shown, gets the DPO's sign-off (a second browser, signed in as the DPO), records a
  consent with the signed form's scan at the desk and enrolls the person by upload, then
  verifies them, by upload and with the device camera (a fake camera: its frame has no
  face, and the page says so);
* the person opens the portal with the receipt's access code, downloads the evidence
  bundle (it verifies offline) and erases everything;
* two reviewers, each in their own browser, confirm a remote identification;
* an official signs in to the regulator console on the regulator node.

Screenshots of each party's main page go to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lawful import ANSWERS, NECESSITY, OPERATOR, PACK_SPEC, consent, draft, live
from regulator_support import Clock, new_regulator, push_gate
from sqlalchemy import update
from web_console import PASSWORD, staff
from web_server import CHROMIUM, CHROMIUM_ARGS, block_the_internet, serving

from facegate.api.app import create_app
from facegate.api.ratelimit import RateLimiter
from facegate.config import Settings
from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.ledger.evidence_verify import verify_bundle
from facegate.recognition import FaceEngine
from facegate.regulator.app import create_regulator_app
from facegate.regulator.tables import RegLog
from facegate.regulator.web_logins import set_login

playwright = pytest.importorskip("playwright.sync_api")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FACES = Path("/work/shared/data/faces")
Photo = Callable[[str], bytes]
#: a fake camera (a generated test pattern, no face) that needs no prompt
CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
#: what the pages say, in each language
SAYS = {
    "en": {
        "refused": "The law does not allow this",
        "held": "What is held about you",
        "erased": "Everything about you is erased",
        "enrolled": "Enrolled",
        "match": "Match",
    },
    "zh-CN": {
        "refused": "法律不允许这样做",
        "held": "与您有关的已保存信息",
        "erased": "您的全部信息已删除",
        "enrolled": "已登记",
        "match": "匹配",
    },
}


@dataclass
class Site:
    url: str
    gate: Gate
    photos: Path


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, face_engine: FaceEngine, faces_dir: Path
) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("console") / "home"
    gate = Gate.open(settings=Settings(home=home), engine=face_engine, create=True)
    staff(gate)
    app = create_app(gate)
    app.state.subject_limiter = RateLimiter(rate=1000, per=60.0)
    app.state.web_login_attempts = RateLimiter(rate=1000, per=60.0)
    with serving(app) as url:
        yield Site(url, gate, faces_dir)
    gate.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *CAMERA])
        yield b
        b.close()


@dataclass
class Person:
    page: Any
    blocked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def people(browser: Any) -> Iterator[Callable[[str], Person]]:
    """Opens a browser context per party (their own cookies), in a language."""
    opened: list[tuple[Any, Person]] = []

    def open_as(language: str) -> Person:
        context = browser.new_context(
            viewport={"width": 1000, "height": 900}, locale=language, accept_downloads=True
        )
        person = Person(context.new_page())
        block_the_internet(context, person.blocked)
        person.page.on(
            "console",
            lambda m: (
                person.problems.append(m.text) if "Content Security Policy" in m.text else None
            ),
        )
        person.page.on("pageerror", lambda e: person.problems.append(f"script error: {e}"))
        opened.append((context, person))
        return person

    yield open_as
    for context, person in opened:
        context.close()
        assert person.blocked == [], f"requests off this machine: {person.blocked}"
        assert person.problems == [], f"CSP violations or script errors: {person.problems}"


def accessible(page: Any) -> None:
    results = axe_sync.Axe().run(page, options={"resultTypes": ["violations"]})
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"


def shot(page: Any, name: str, *, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def sign_in(person: Person, site: Site, name: str) -> None:
    page = person.page
    page.goto(f"{site.url}/console/login")
    page.fill("#operator", "op_local")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("form[action='/console/login'] button[type=submit]")
    page.wait_for_url("**/console")


def _fill_wizard(page: Any, location: str) -> None:
    page.fill("#name", "East gate")
    page.fill("#purpose", "Residents open the east gate with their face")
    page.select_option("#location", location)
    page.check("#signage-yes")
    page.check("#law-cn")
    page.select_option("#legal_basis", "consent")
    page.check("#capabilities-verify")
    page.check("#capabilities-identify")
    page.select_option("#capture", "on_request")
    page.fill("#alternative", "key card or the staffed gatehouse")
    page.check("#alternative_penalty-no")
    page.fill("#retention_days", "365")
    for name, text in ANSWERS.items():
        page.fill(f"#{name}", text)
    page.click("form.wizard button[type=submit]")
    page.wait_for_load_state()


def _operator_registers_and_the_dpo_signs(people: Any, site: Site, lang: str) -> tuple[Any, str]:
    clerk = people(lang)
    sign_in(clerk, site, "Li Na")
    page = clerk.page
    if lang == "en":
        accessible(page)
        shot(page, "console")
    page.goto(f"{site.url}/console/deployments/new")
    accessible(page)
    _fill_wizard(page, "changing_room")
    problem = page.locator("#problem")
    assert SAYS[lang]["refused"] in problem.inner_text()
    assert "CN-FR-13" in problem.inner_text() and "Measures Art 13" in problem.inner_text()
    accessible(page)
    if lang == "en":
        problem.scroll_into_view_if_needed()
        shot(page, "console-refused")
    page.select_option("#location", "residential_compound")
    page.click("form.wizard button[type=submit]")
    page.locator("#notes").wait_for()
    accessible(page)
    dep = re.search(r"dep_[0-9a-f]{24}", page.locator("a[href$='/change']").get_attribute("href"))
    assert dep and page.locator("#sign-form").count() == 0  # the clerk cannot sign
    dpo = people("zh-CN" if lang == "en" else "en")  # the DPO reads the other language
    sign_in(dpo, site, "Wang Fang")
    dpo.page.goto(f"{site.url}/console/deployments/{dep.group(0)}")
    dpo.page.fill("#necessity", NECESSITY)
    accessible(dpo.page)
    if lang == "en":
        shot(dpo.page, "console-dpo-sign")
    dpo.page.click("#sign")
    dpo.page.wait_for_url("**?signed=1")
    assert site.gate.get_deployment(dep.group(0)).status == "live"
    return clerk, dep.group(0)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_operator_and_person_journeys(people: Any, site: Site, lang: str, tmp_path: Path) -> None:
    clerk, dep = _operator_registers_and_the_dpo_signs(people, site, lang)
    page = clerk.page
    page.goto(f"{site.url}/console/desk/{dep}")
    accessible(page)
    scan = tmp_path / "signed-form.pdf"
    scan.write_bytes(b"%PDF-1.4 the signed consent form of flat 12")
    page.fill("#subject", "flat-12")
    page.select_option("#method", "signed_form")
    page.set_input_files("#form_file", str(scan))
    page.check("#adult-attested")
    page.click("form[action$='/consent'] button[type=submit]")
    code = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", code)
    accessible(page)
    if lang == "en":
        shot(page, "console-receipt")
    page.goto(f"{site.url}/console/faces/{dep}")
    page.fill("#enroll-subject", "flat-12")
    page.set_input_files("#photo-enroll", str(site.photos / "fixtures/obama.jpg"))
    page.click("form[action$='/enroll'] button[type=submit]")
    assert page.locator("#result-h").inner_text() == SAYS[lang]["enrolled"]
    page.fill("#verify-subject", "flat-12")
    page.set_input_files("#photo-verify", str(site.photos / "fixtures/obama2.jpg"))
    page.click("form[action$='/verify'] button[type=submit]")
    assert page.locator("#result-h").inner_text() == SAYS[lang]["match"]
    assert page.locator("#result meter").count() == 1
    accessible(page)
    if lang == "en":
        shot(page, "console-verified")
        _camera(page)
    _person_opens_downloads_and_erases(people, site, lang, code, tmp_path)


def _until(page: Any, condition: str) -> None:
    """Poll ``condition`` from here (page.wait_for_function would eval a string in the
    page, which the Content Security Policy rightly forbids)."""
    for _ in range(100):
        if page.evaluate(condition):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _camera(page: Any) -> None:
    """The camera's snapshot reaches the server as the form's photo (the fake camera shows
    a test pattern, so the Gate finds no face and the page says so)."""
    box = page.locator("[data-camera-for='photo-verify']")
    box.locator("[data-camera-start]").click()
    box.locator("[data-camera-snap]").wait_for(state="visible")
    _until(page, "document.querySelector('[data-camera-for=photo-verify] video').videoWidth > 0")
    box.locator("[data-camera-snap]").click()
    _until(page, "document.getElementById('photo-verify').files.length === 1")
    page.fill("#verify-subject", "flat-12")
    page.click("form[action$='/verify'] button[type=submit]")
    assert "face" in page.locator("#problem").inner_text().lower()


def _person_opens_downloads_and_erases(
    people: Any, site: Site, lang: str, code: str, tmp_path: Path
) -> None:
    person = people(lang)
    page = person.page
    page.goto(f"{site.url}/portal")
    page.fill("#code", code)
    page.click("form[action='/portal/open'] button[type=submit]")
    page.get_by_role("heading", name=SAYS[lang]["held"]).wait_for()
    accessible(page)
    with page.expect_download() as download:
        page.click("#download-evidence")
    saved = tmp_path / "bundle.json"
    download.value.save_as(saved)
    verdict = verify_bundle(saved.read_bytes(), log_key=site.gate.ledger_key())
    assert {e.kind for e in verdict.events} >= {"consent.given", "enroll", "verify"}
    page.check("#confirm-erase")
    page.click("form[action='/portal/erase'] button[type=submit]")
    page.get_by_role("heading", name=SAYS[lang]["erased"]).wait_for()
    accessible(page)


def test_two_reviewers_confirm_a_match(people: Any, site: Site, photo: Photo) -> None:
    dep = live(
        site.gate,
        name="Station hall",
        location="office",
        capabilities=["verify", "remote_identification"],
    ).id
    consent(site.gate, dep, "missing person 17")
    site.gate.enroll(dep, "missing person 17", photo("fixtures/obama.jpg"))
    pending = site.gate.identify(dep, photo("fixtures/obama3.jpg"))
    assert pending.decision == "pending"
    first = people("zh-CN")
    sign_in(first, site, "Reviewer One")
    first.page.goto(f"{site.url}/console/review")
    accessible(first.page)
    first.page.click(f"form[action$='{pending.identification_id}'] button[value=confirm]")
    first.page.locator("#reviewed").wait_for()
    assert "missing person 17" not in first.page.content()  # not named by one reviewer
    second = people("en")
    sign_in(second, site, "Reviewer Two")
    second.page.goto(f"{site.url}/console/review")
    assert "Reviewer One" in second.page.locator("table").inner_text()
    second.page.click(f"form[action$='{pending.identification_id}'] button[value=confirm]")
    done = second.page.locator("#reviewed").inner_text()
    assert second.page.url.endswith("/console/review")  # htmx swapped the queue in place
    assert "Confirmed by two reviewers: the person is missing person 17." in done
    accessible(second.page)
    shot(second.page, "console-review")


def test_every_other_console_page_is_accessible(people: Any, site: Site) -> None:
    """Each page once, the languages taking turns (the journeys above cover both languages
    on the main pages)."""
    dep = live(site.gate, name="West gate").id
    admin = people("en")
    sign_in(admin, site, "Zhao Admin")
    paths = (
        "/console/deployments",
        f"/console/deployments/{dep}",
        f"/console/deployments/{dep}/change",
        "/console/desk",
        "/console/faces",
        "/console/requests",
        "/console/ledger",
        "/console/reports",
        f"/console/reports/pia?deployment={dep}",
        "/console/reports/filing",
        "/console/principals",
        "/console/account",
        "/regulator",
    )
    for n, path in enumerate(paths):
        lang = ("en", "zh-CN")[n % 2]
        admin.page.goto(f"{site.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert admin.page.locator("html").get_attribute("lang") == lang
        accessible(admin.page)
    admin.page.goto(site.url + "/console/ledger?lang=en")
    shot(admin.page, "console-ledger")
    # the check can fail: an image without a text alternative is a critical violation
    admin.page.evaluate(
        "document.querySelector('main').appendChild(Object.assign(document.createElement("
        "'img'), {src: 'data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA='}))"
    )
    with pytest.raises(AssertionError, match="image-alt"):
        accessible(admin.page)


def test_an_official_reads_the_regulator_console(people: Any, site: Site, tmp_path: Path) -> None:
    consent(site.gate, live(site.gate, name="South gate").id, "flat-3")
    with pytest.raises(PolicyDenied):  # a refused registration: the chart counts it by rule
        draft(
            site.gate,
            **PACK_SPEC["eu"],
            location="shop",
            capabilities=["verify", "emotion_recognition"],
        )
    reg, _token = new_regulator(tmp_path / "reg", clock=Clock(site.gate.core.clock()))
    try:
        origin = site.gate.core.ledger.origin
        reg.approve(origin, vkey=site.gate.ledger_key())
        with reg.core.db.transaction() as s:  # as its registration request would name it
            s.execute(
                update(RegLog)
                .where(RegLog.origin == origin)
                .values(operator_name=OPERATOR["name"], contact=OPERATOR["contact"])
            )
        push_gate(reg, site.gate, 0)
        reg.issue_order(
            origin,
            kind="rectify",
            reason="Post the signs at the east gate too.",
            due_at=reg.core.now() + timedelta(days=7),
        )
        set_login(reg.core, "Inspector Zhou", PASSWORD)
        with serving(create_regulator_app(reg)) as url:
            official = people("en")
            page = official.page
            page.goto(f"{url}/console")
            page.wait_for_url("**/console/login")
            accessible(page)
            page.fill("#name", "Inspector Zhou")
            page.fill("#password", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_url(f"{url}/console")
            accessible(page)
            shot(page, "regulator-console")
            page.click("table a")
            assert page.locator("svg.chart").count() == 3
            accessible(page)
            shot(page, "regulator-console-operator")
            page.goto(f"{url}/console?lang=zh-CN")
            assert page.locator("h1").inner_text() == "受监管的运营方"
            accessible(page)
    finally:
        reg.close()
