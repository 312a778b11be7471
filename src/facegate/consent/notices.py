"""Notices: what a person must be told before their face is processed (CN-FR-5, ISO-29184).

A notice is versioned and published in Chinese and English, each with every required field
and a short plain version that can be taken in at a glance or read aloud (accessibility).
The stored notice is one document holding every language (see :meth:`NoticeDraft.document`);
its hash is bound into every consent, so a changed notice voids the consents given to the
old one (CN-PIPL-14), whatever language the person read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.policy.places import place

#: every field CN-FR-5 and ISO/IEC 29184 require a notice to state
REQUIRED_FIELDS = (
    "processor",  # identity of the processor (CN-FR-5; ISO 29184 5.3.4)
    "contact",  # how to reach it
    "dpo",  # the data protection officer / person in charge (GDPR Art 13(1)(b), PIPL Art 52)
    "purpose",
    "method",
    "data",  # what is collected and what is kept
    "retention",
    "impact",
    "necessity",
    "legal_basis",
    "recipients",  # disclosure and transfers, including abroad
    "rights",  # how to exercise them
    "withdrawal",  # how to withdraw, as easily as consenting
    "complaints",  # where to complain
    "alternative",
    "refusal",  # what refusing costs: nothing (CN-FR-12)
    "changes",  # how changes are announced (ISO 29184 5.5)
)
LANGUAGES = ("zh-CN", "en")
FORMAT = "facegate-notice/3"

_BASIS = {
    "consent": ("your separate, explicit consent", "您的单独、明示同意"),
    "law": ("a law or administrative regulation that requires it", "法律、行政法规的规定"),
    "employment_law": ("obligations under employment law", "劳动法律规定的义务"),
    "vital_interests": ("protecting someone's vital interests", "保护自然人的重大利益"),
    "substantial_public_interest": (
        "a substantial public interest set by law",
        "法定的重大公共利益",
    ),
}
_AUTHORITY = {
    "cn": ("the cyberspace administration", "网信部门"),
    "eu": ("your data protection supervisory authority", "您所在地的数据保护监管机构"),
}


@dataclass(frozen=True)
class NoticeDraft:
    processor: str
    contact: str
    dpo: str
    purpose: str
    necessity: str
    retention_days: int
    alternative: str
    location_type: str
    legal_basis: str = "consent"
    capabilities: frozenset[str] = frozenset({"verify", "identify"})
    capture: str | None = None
    egress: bool = False
    jurisdiction: str = "cn"
    #: the operator's own wording per language, e.g. ``{"zh-CN": {"purpose": "..."}}``;
    #: fields without one are shown as the operator gave them
    localized: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def body(self, language: str = "en") -> dict[str, str]:
        """Every required field in ``language`` ("en" or "zh-CN")."""
        zh = _check(language) == "zh-CN"
        own = self.localized.get(language, {})
        n = self.retention_days
        alternative = own.get("alternative", self.alternative)
        # no contact is no contact: the notice is then incomplete (CN-FR-5), never papered over
        contact = self.contact
        where = place(self.location_type)
        place_en = where.en if where else self.location_type.replace("_", " ")
        place_zh = where.zh if where else self.location_type
        basis_en, basis_zh = _BASIS.get(self.legal_basis, (self.legal_basis, self.legal_basis))
        authority_en, authority_zh = _AUTHORITY.get(
            self.jurisdiction.split("+")[0],
            ("the data protection authority", "个人信息保护主管部门"),
        )
        if zh:
            fields = {
                "processor": own.get("processor", self.processor),
                "contact": contact,
                "dpo": self.dpo,
                "purpose": own.get("purpose", self.purpose),
                "method": (
                    f"{place_zh}的摄像头拍摄{_who_zh(self.capture)}的面部，"
                    f"软件将其{_ways_zh(self.capabilities)}，并转换为受保护模板。"
                    "照片本身立即删除。模板经过本部署专用密钥的变换，并以您个人的密钥加密保存；"
                    "密钥与数据分开保管。持有这些密钥的人原则上可以由模板近似还原您的面部特征，"
                    "因此密钥受到严格保护，您撤回或要求删除时密钥即被销毁。"
                ),
                "data": "仅保存加密的受保护人脸模板；不保存照片，也不保存原始人脸特征。",
                "retention": f"您的模板最长保存{n}天，或至您撤回同意时为止，以先到者为准。",
                "impact": (
                    "人脸信息属于敏感个人信息，一旦被滥用，可能在您不知情的情况下识别您。"
                    "此处的模板经过加密，仅对本场所有效，每次使用都记录在防篡改的日志中。"
                ),
                "necessity": own.get("necessity", self.necessity),
                "legal_basis": f"处理依据：{basis_zh}。",
                "recipients": (
                    "仅限您另行单独同意的接收方，每次征求同意时均会告知接收方名称；绝不出售。"
                    if self.egress
                    else "无：您的人脸信息不向任何第三方提供，也不离开本系统。"
                ),
                "rights": (
                    "您有权查阅、复制、更正、删除您的信息，了解每一次使用记录，并要求解释说明；"
                    "凭同意回执上的访问码即可行使。"
                ),
                "withdrawal": (
                    "您可随时撤回同意，方式与给予同意同样便捷；撤回后您的模板将被删除，密钥将被销毁。"
                ),
                "complaints": f"您可向运营方（{contact}）或{authority_zh}投诉、举报。",
                "alternative": alternative,
                "refusal": (
                    f"如您不同意或撤回同意，仍可使用：{alternative}，不收取额外费用，服务不受影响。"
                ),
                "changes": "如目的或处理方式发生变化，我们将向您展示新的告知并重新征得您的同意。",
            }
        else:
            fields = {
                "processor": own.get("processor", self.processor),
                "contact": contact,
                "dpo": self.dpo,
                "purpose": own.get("purpose", self.purpose),
                "method": (
                    f"A camera at this {place_en} photographs {_who_en(self.capture)}; software "
                    f"{_ways_en(self.capabilities)} and turns it into a protected template. The "
                    "photo itself is discarded at once. The template is transformed under a key "
                    "of this deployment and encrypted under a key of your own, kept apart from "
                    "the data. Whoever held those keys could in principle recover an "
                    "approximation of your face measurements from it, so the keys are guarded, "
                    "and destroyed when you withdraw or ask for erasure."
                ),
                "data": (
                    "Only an encrypted, protected template of your face is kept; never the "
                    "photo, never the raw face measurements."
                ),
                "retention": (
                    f"Your template is kept for at most {n} days, or until you withdraw "
                    "consent, whichever comes first."
                ),
                "impact": (
                    "Face data is sensitive personal information: if misused it could identify "
                    "you without your knowledge. Templates here are encrypted and keyed to this "
                    "site only, and every use is written to a tamper-evident log."
                ),
                "necessity": own.get("necessity", self.necessity),
                "legal_basis": f"We rely on {basis_en}.",
                "recipients": (
                    "Only recipients you separately agree to, each named when we ask you; "
                    "never sold."
                    if self.egress
                    else "Nobody: your face data is not shared and never leaves this system."
                ),
                "rights": (
                    "You may refuse, withdraw at any time (as easily as you consented), see what "
                    "is held about you and every use of it, have it corrected or erased, and ask "
                    "for an explanation, using the access code on your consent receipt."
                ),
                "withdrawal": (
                    "Withdraw at any time, as easily as you consented; your templates are then "
                    "erased and their key destroyed."
                ),
                "complaints": f"Complain to the operator ({contact}) or to {authority_en}.",
                "alternative": alternative,
                "refusal": (
                    f"If you do not consent, or withdraw, you can still use: {alternative}, at "
                    "no extra cost and with the same service."
                ),
                "changes": (
                    "If the purpose or the way your face is used changes, you will be shown a "
                    "new notice and asked again."
                ),
            }
        return fields

    def plain(self, language: str = "en") -> str:
        """The accessible version: a few short sentences that can be read aloud."""
        zh = _check(language) == "zh-CN"
        own = self.localized.get(language, {})
        purpose = own.get("purpose", self.purpose)
        alternative = own.get("alternative", self.alternative)
        contact = self.contact
        if zh:
            return (
                f"此处使用人脸识别：{purpose}。我们只保存您人脸的加密模板，不保存照片，"
                f"最长{self.retention_days}天。您可以拒绝，改用{alternative}，不受任何影响。"
                f"您可随时撤回，相关信息将全部删除。咨询：{contact}。"
            )
        return (
            f"Face recognition is used here: {purpose}. We keep only an encrypted template of "
            f"your face, not a photo, for up to {self.retention_days} days. You can say no and "
            f"use {alternative} instead, at no cost. You can withdraw at any time and "
            f"everything is deleted. Questions: {contact}."
        )

    def document(self, version: int) -> dict[str, object]:
        """The stored notice, hashed as a whole: the English fields at the top level (so
        readers of the flat version 1 bodies keep working), the plain version, and every
        other language under ``translations``."""
        return {
            "format": FORMAT,
            "version": version,
            "language": "en",
            **self.body("en"),
            "plain": self.plain("en"),
            "translations": {
                lang: {**self.body(lang), "plain": self.plain(lang)}
                for lang in LANGUAGES
                if lang != "en"
            },
        }


def _check(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"notices are published in {', '.join(LANGUAGES)}, not {language!r}")
    return language


def _who_en(capture: str | None) -> str:
    if capture == "in_view":
        return "everyone in its view, whether enrolled or not (signs mark the area)"
    return "you when you choose to use face recognition"


def _who_zh(capture: str | None) -> str:
    if capture == "in_view":
        return "其视野内的每一个人（无论是否登记，现场设有提示标识）"
    return "您（仅在您选择使用人脸识别时）"


def _ways_en(capabilities: frozenset[str]) -> str:
    ways = []
    if "verify" in capabilities:
        ways.append("compares it with your own enrolled template (1:1)")
    if capabilities & {"identify", "remote_identification", "realtime_remote_identification"}:
        ways.append("searches the templates enrolled here for it (1:N)")
    return " or ".join(ways) or "reads it"


def _ways_zh(capabilities: frozenset[str]) -> str:
    ways = []
    if "verify" in capabilities:
        ways.append("与您本人登记的模板比对（1:1）")
    if capabilities & {"identify", "remote_identification", "realtime_remote_identification"}:
        ways.append("在此处登记的模板中检索（1:N）")
    return "或".join(ways) or "读取"


def notice_hash(body: Mapping[str, object]) -> str:
    return sha256_hex(canonical_json(dict(body)))


def missing_fields(body: Mapping[str, object]) -> list[str]:
    return [f for f in REQUIRED_FIELDS if not str(body.get(f, "")).strip()]


# --- reading stored notices (documents, and the flat bodies of version 1 notices) ------------


def _translations(stored: Mapping[str, object]) -> Mapping[str, object]:
    tr = stored.get("translations")
    return tr if isinstance(tr, Mapping) else {}


def languages_of(stored: Mapping[str, object]) -> tuple[str, ...]:
    return (str(stored.get("language", "en")), *(str(k) for k in _translations(stored)))


def _entry(stored: Mapping[str, object], language: str) -> Mapping[str, object]:
    entry = _translations(stored).get(language)
    return entry if isinstance(entry, Mapping) else stored


def fields_of(stored: Mapping[str, object], language: str = "en") -> dict[str, str]:
    """The required fields in ``language`` (the top-level language if it has none)."""
    entry = _entry(stored, language)
    return {f: str(entry[f]) for f in REQUIRED_FIELDS if f in entry}


def plain_of(stored: Mapping[str, object], language: str = "en") -> str:
    return str(_entry(stored, language).get("plain", ""))


def document_missing(stored: Mapping[str, object]) -> tuple[str, ...]:
    """Every required field missing in any language, as ``field (language)``."""
    return tuple(
        f"{name} ({lang})"
        for lang in languages_of(stored)
        for name in missing_fields(fields_of(stored, lang))
    )


def has_plain(stored: Mapping[str, object]) -> bool:
    return all(plain_of(stored, lang).strip() for lang in languages_of(stored))
