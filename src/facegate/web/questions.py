"""The registration wizard's questions: the law's questions, in the order a person answers
them. Each is a field of :class:`facegate.specs.DeploymentSpec`, asked in words, with the
rule that needs it, the packs under which it must be answered, and whether it may be left
out. Labels are English messages of the catalogues, translated when the page is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from facegate.policy.places import PLACES
from facegate.web.public import N_

Kind = Literal["text", "textarea", "number", "yesno", "choice", "choices", "date", "laws"]


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    help: str
    kind: Kind = "text"
    rules: str = ""
    #: the packs under which the Gate refuses a registration that leaves it out
    needed_under: str = ""
    optional: bool = False
    max_len: int = 500
    #: the answer given when nothing was chosen (only where it is the strict answer)
    strict_default: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]


LAWS: Final = (
    ("cn", N_("China: PIPL and the 2025 face recognition Measures")),
    ("eu", N_("European Union: GDPR and the AI Act")),
    ("us-il", N_("Illinois: BIPA")),
    ("us-tx", N_("Texas: CUBI")),
    ("us-wa", N_("Washington: RCW 19.375")),
)
CODES: Final = (("ind-2019", N_("Industry code: 2019 biometric privacy initiative")),)
BASES: Final = {
    "consent": N_("the person's separate, explicit consent"),
    "law": N_("a law or regulation requires it"),
    "employment_law": N_("employment law (EU)"),
    "vital_interests": N_("vital interests (EU)"),
    "substantial_public_interest": N_("substantial public interest (EU)"),
    "contract": N_("a contract (not enough for faces)"),
    "legitimate_interest": N_("legitimate interest (not enough for faces)"),
}
CAPABILITY_NAMES: Final = {
    "verify": N_("verify: is this the person they claim to be (1:1)"),
    "identify": N_("identify: who among the enrolled is this (1:N)"),
    "remote_identification": N_("remote identification, after the fact"),
    "realtime_remote_identification": N_("real-time remote identification"),
    "emotion_recognition": N_("emotion recognition"),
    "sensitive_trait_inference": N_("inferring sensitive traits"),
    "untargeted_scraping": N_("untargeted scraping of faces"),
}
CAPTURE: Final = {
    "on_request": N_("only people who ask to use it"),
    "in_view": N_("whoever is in the camera's view"),
}
SCOPES: Final = {"application": N_("application use"), "research": N_("research or training")}
PIA: Final = ("lawfulness", "impact", "risks", "safeguards", "conclusion")
SECURITY: Final = ("authority", "instrument", "area")

_Q = Question
STEPS: Final = (
    Step(
        "what",
        N_("What and why"),
        N_("Name the processing and its one specific purpose."),
        (
            _Q(
                "name",
                N_("Name"),
                N_("How staff and people will know it, e.g. 'North gate'."),
                max_len=200,
            ),
            _Q(
                "purpose",
                N_("Purpose"),
                N_(
                    "The one specific purpose faces serve here. A vague or "
                    "open-ended purpose is refused."
                ),
                "textarea",
                "CN-FR-4",
                max_len=2000,
            ),
            _Q(
                "necessity",
                N_("Why faces are necessary (proposal)"),
                N_(
                    "Why a less intrusive way "
                    "does not do. The DPO writes the final statement when signing."
                ),
                "textarea",
                "CN-FR-4",
                optional=True,
                max_len=5000,
            ),
        ),
    ),
    Step(
        "where",
        N_("Where"),
        N_("The kind of place decides what the law allows at all."),
        (
            _Q(
                "location",
                N_("Kind of place"),
                N_(
                    "Some places are banned outright (toilets, "
                    "changing rooms, hotel rooms ...); public places serve public security only."
                ),
                "choice",
                "CN-FR-13, CN-PIPL-26",
            ),
            _Q(
                "signage",
                N_("Are prominent signs posted at the place?"),
                N_("People must be told before their face is captured."),
                "yesno",
                "CN-FR-5",
            ),
            _Q(
                "egress",
                N_("May face data leave the device?"),
                N_("No keeps it on the recognising device; yes needs a law or a separate consent."),
                "yesno",
                "CN-FR-8",
                strict_default="no",
            ),
        ),
    ),
    Step(
        "law",
        N_("Which law"),
        N_("The policy packs that judge every act of this deployment."),
        (
            _Q(
                "jurisdiction",
                N_("Law that applies"),
                N_("Choose one law, and an industry code if you follow one."),
                "laws",
            ),
            _Q(
                "legal_basis",
                N_("Legal basis"),
                N_("What makes processing faces lawful here."),
                "choice",
                "EU-GDPR-9, CN-FR-6",
            ),
            _Q(
                "scope",
                N_("Scope"),
                N_(
                    "Pure research or training is outside the Measures (the "
                    "privacy law still applies)."
                ),
                "choice",
                "CN-FR-2",
                strict_default="application",
            ),
        ),
    ),
    Step(
        "does",
        N_("What it does"),
        N_("Declare every capability; some are banned."),
        (
            _Q(
                "capabilities",
                N_("Capabilities"),
                N_("Declare everything it does: a capability not declared is never allowed."),
                "choices",
                "CN-SPC-2, EU-AI-5",
            ),
            _Q(
                "capture",
                N_("Who does a search photograph?"),
                N_("Needed when it identifies (1:N)."),
                "choice",
                "CN-FR-5, EU-GDPR-9, US-IL-15b",
                optional=True,
            ),
            _Q(
                "threshold",
                N_("Match threshold"),
                N_("Leave empty for the calibrated default."),
                "number",
                "ISO-30136",
                optional=True,
            ),
            _Q(
                "liveness",
                N_("Must people pass a liveness check?"),
                N_("Refuses photos and screens held up to the camera."),
                "yesno",
                strict_default="no",
            ),
        ),
    ),
    Step(
        "choice",
        N_("People's choice and retention"),
        N_("Refusing must cost people nothing; templates are kept no longer than needed."),
        (
            _Q(
                "alternative",
                N_("The way in without a face"),
                N_("A key card, a PIN, a person at a desk: offered to everyone who says no."),
                rules="CN-FR-10",
            ),
            _Q(
                "alternative_penalty",
                N_("Does the alternative cost more or serve less?"),
                N_("Yes is refused: people who say no must not be worse off."),
                "yesno",
                "CN-FR-12",
                needed_under="cn",
                optional=True,
            ),
            _Q(
                "retention_days",
                N_("Days a template is kept"),
                N_("At most what the purpose needs; BIPA allows three years at the most."),
                "number",
                "CN-PIPL-19, US-IL-15a",
            ),
            _Q(
                "purpose_ends_at",
                N_("The purpose ends on (optional)"),
                N_("Everyone is erased then."),
                "date",
                optional=True,
            ),
            _Q(
                "opt_out",
                N_("Can people opt out at any time?"),
                N_("Read by Washington's law."),
                "yesno",
                optional=True,
            ),
        ),
    ),
    Step(
        "duty",
        N_("Accountability"),
        N_("Facts some laws need; answer those of the law you chose."),
        (
            _Q(
                "law_enforcement",
                N_("Is it operated by or for law enforcement?"),
                N_("Needed under the EU AI Act."),
                "yesno",
                "EU-AI-5",
                needed_under="eu",
                optional=True,
            ),
            _Q(
                "risk_team",
                N_("Who manages the risks"),
                N_("A team or office."),
                rules="IND-2019",
                needed_under="ind-2019",
                optional=True,
                max_len=200,
            ),
            _Q(
                "accountable",
                N_("Who is accountable"),
                N_("A named role."),
                rules="IND-2019",
                needed_under="ind-2019",
                optional=True,
                max_len=200,
            ),
            _Q(
                "fairness_tested",
                N_("Were error rates tested across groups?"),
                "",
                "yesno",
                "IND-2019",
                needed_under="ind-2019",
                optional=True,
            ),
            _Q(
                "authority",
                N_("Public security: the authority"),
                N_("Only for public places (PIPL Art 26): who runs it ..."),
                rules="CN-PIPL-26",
                optional=True,
                max_len=200,
            ),
            _Q(
                "instrument",
                N_("Public security: under which instrument"),
                N_("... under which law or order ..."),
                rules="CN-PIPL-26",
                optional=True,
                max_len=300,
            ),
            _Q(
                "area",
                N_("Public security: over which area"),
                N_("... and over which defined area."),
                rules="CN-PIPL-26",
                optional=True,
                max_len=300,
            ),
        ),
    ),
    Step(
        "pia",
        N_("Impact assessment"),
        N_("Written by people, never drafted by facegate; the DPO completes and signs it."),
        tuple(
            _Q(name, label, help_, "textarea", "CN-FR-9, EU-GDPR-35", optional=True, max_len=5000)
            for name, label, help_ in (
                ("lawfulness", N_("Lawfulness"), N_("Why processing is lawful and fair.")),
                ("impact", N_("Impact on people"), N_("What it could mean for the people.")),
                ("risks", N_("Risks"), N_("What could go wrong, and for whom.")),
                ("safeguards", N_("Safeguards"), N_("What protects people.")),
                ("conclusion", N_("Conclusion"), N_("Is it proportionate, and why.")),
            )
        ),
    ),
)
QUESTIONS: Final = {q.name: q for step in STEPS for q in step.questions}


def choices(question: Question, language: str) -> list[tuple[str, str]]:
    """(value, label) of a choice question; labels in English are translated by the page."""
    if question.name == "location":
        zh = language == "zh-CN"
        return [(p.name, p.zh if zh else p.en) for p in PLACES.values()]
    table: Mapping[str, str] = {
        "legal_basis": BASES,
        "capabilities": CAPABILITY_NAMES,
        "capture": CAPTURE,
        "scope": SCOPES,
    }.get(question.name, {})
    return list(table.items())
