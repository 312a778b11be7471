"""What anyone may read about a deployment without a key: its notice in force, the retention
schedule (BIPA 15(a) wants it public), the alternative and how to refuse, who runs it and how
to reach them and their DPO, and how to complain. A draft is not public yet."""

from __future__ import annotations

from facegate.consent.notices import LANGUAGES, fields_of, plain_of
from facegate.core import Core, aware, packs_of
from facegate.errors import NotFound
from facegate.flows.facts import current_notice
from facegate.policy.places import place
from facegate.storage import tables as t


def deployment(core: Core, deployment_id: str) -> dict[str, object]:
    with core.db.read() as s:
        dep = s.get(t.Deployment, deployment_id) if len(deployment_id) <= 40 else None
        notice = current_notice(s, dep) if dep is not None else None
        if dep is None or notice is None:
            raise NotFound(
                f"no public deployment {deployment_id!r}",
                advice="A deployment is public once it is live (its notice published).",
            )
        op = s.get(t.Operator, dep.operator_id)
        assert op is not None  # foreign key
        where = place(dep.location_type)
        return {
            "id": dep.id,
            "name": dep.name,
            "status": dep.status,
            "operator": {
                "name": op.name,
                "contact": op.contact,
                "email": op.email,
                "address": op.address,
                "dpo": op.dpo,
            },
            "place": where.en if where else dep.location_type,
            "purpose": dep.purpose,
            "alternative": dep.alternative,
            "retention_schedule": _schedule(dep),
            "notice": {
                "version": notice.version,
                "sha256": notice.sha256,
                "published_at": aware(notice.created_at).isoformat(),
                "languages": {
                    lang: {**fields_of(notice.body, lang), "plain": plain_of(notice.body, lang)}
                    for lang in LANGUAGES
                },
            },
            "jurisdiction": list(packs_of(dep.jurisdiction)),
        }


def _schedule(dep: t.Deployment) -> dict[str, object]:
    """The retention schedule in words and numbers."""
    packs = set(packs_of(dep.jurisdiction))
    rules = [f"templates are destroyed {dep.retention_days} days after enrollment at the latest"]
    if "us-il" in packs:
        rules.append(
            "and in any case when the purpose is met or 3 years after the person's last "
            "interaction, whichever comes first (740 ILCS 14/15(a))"
        )
    if dep.purpose_ends_at is not None:
        rules.append(
            f"and no later than the end of the purpose, {aware(dep.purpose_ends_at).date()}"
        )
    rules.append("and at once when the person withdraws consent or asks for erasure")
    return {"retention_days": dep.retention_days, "rules": rules}
