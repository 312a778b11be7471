"""The security self-check (CN-FR-14, CN-PIPL-69, ISO-24745, IND-2019): each control measured,
not assumed; run by ``serve`` at start and daily, and by ``facegate selfcheck``.

What is measured:

- encryption: a sample of stored templates and subject references are sealed blobs of the
  current format, none of them raw float vectors;
- access control: the home is 0700 and every file in it 0600; the master key is not
  readable by others;
- authorisation management: every API key belongs to an active principal and expires; the
  operator has an admin; no revoked principal holds a live key;
- security audit: the ledger verifies end to end and its head is signed;
- intrusion detection: the service watches failed authentications (only ``serve`` runs the
  watcher; elsewhere the control is not measurable and the operator must attest it);
- keys apart: the key store is a separate database from the data, the master key is not in
  the database.

The result is stored and ledgered; while the latest self-check fails, the packs refuse every
act that touches a face (people's rights stay open).
"""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_, select

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core, aware
from facegate.flows.enforce import require
from facegate.flows.facts import latest_system
from facegate.ledger.events import Event, Kind
from facegate.policy import PACKS, Act, Context, Declarations, DeploymentFacts, decide, rules_for
from facegate.policy.facts import CONTROLS, SystemFacts
from facegate.results import SelfCheckReport
from facegate.storage import tables as t
from facegate.templates.hazmat import aead

MASTER_KEY_FILE = "master.key"
#: templates and references sampled for the encryption measurement
_SAMPLE = 200


def private(path: Path) -> bool:
    """Only the owner may read, write or enter ``path`` (True when it does not exist)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return True
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def run(
    core: Core, actor: Actor | None = None, *, watching_intrusions: bool = False
) -> SelfCheckReport:
    """Measure, decide, store and ledger; the report says what failed and why. ``actor``:
    the principal who asked (a supervision duty: admin or dpo); None for the service's own
    checks at start and every day."""
    if actor is not None:
        require(actor, "supervise", "run the security self-check")
    now = core.clock()
    measured, notes = _measure(core, watching_intrusions=watching_intrusions)
    system = SystemFacts(
        controls={c: measured[c] for c in CONTROLS},
        ledger_verified=bool(measured["ledger_verified"]),
        keys_apart=bool(measured["keys_apart"]),
        checked_at=now,
    )
    with core.db.read() as s:
        packs = sorted(
            {
                p
                for (j,) in s.execute(select(t.Deployment.jurisdiction).distinct())
                for p in j.split("+")
                if p
            }
        )
    # the packs of every deployment, or the baseline alone before there is any
    rules = rules_for(packs) if packs else PACKS["standards"].rules
    decision = decide(Context(Act.START_SERVICE, _installation(packs), now, system=system), rules)
    problems = tuple(f"{f.reason} [{f.rule_id}]" for f in decision.denials)
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.SELF_CHECK,
                now,
                by=actor.principal_id if actor else None,
                rule_ids=decision.rule_ids,
                details={
                    "ok": decision.allowed,
                    "controls": dict(measured),
                    "problems": list(problems),
                },
            ),
        )
        s.add(
            t.SelfCheck(
                id=new_id("chk", core.entropy),
                at=now,
                ok=decision.allowed,
                controls=dict(measured),
                event_id=recorded[0].event_id,
            )
        )
    return SelfCheckReport(
        ok=decision.allowed,
        controls={c: measured[c] for c in CONTROLS},
        measurements=notes,
        rule_ids=decision.rule_ids,
        problems=problems,
        event_id=recorded[0].event_id,
    )


def latest(core: Core) -> SystemFacts | None:
    with core.db.read() as s:
        return latest_system(s)


def _measure(
    core: Core, *, watching_intrusions: bool
) -> tuple[dict[str, bool | None], dict[str, str]]:
    home = core.settings.home.expanduser()
    notes: dict[str, str] = {}
    sealed_ok, notes["encryption"] = _sealed(core)
    files_ok, notes["access_control"] = _files(home)
    authz_ok, notes["authorisation_management"] = _authorisation(core)
    report = core.ledger.verify(core.db, core.ledger.signing_key.public_key().public_bytes_raw())
    notes["security_audit"] = (
        f"ledger of {report.size} entries verifies, {report.heads_checked} signed heads"
        if report.ok
        else f"ledger does not verify: {report.problem}"
    )
    keys_apart = _keys_apart(core, home)
    notes["keys_apart"] = (
        "key store and master key kept apart"
        if keys_apart
        else ("master key readable by others, or key store inside the main database")
    )
    if _master_in_clear(core, home):
        notes["keys_apart"] += (
            "; but the master key is stored unencrypted in the home (master.key): a copy of the "
            "whole home opens every template. Give it from a secrets manager "
            "(FACEGATE_MASTER_KEY) or keep it in an HSM (docs/operations.md)"
        )
    notes["keys_match"] = _rows_without_keys(core)
    notes["intrusion_detection"] = (
        "failed authentications are watched by the service"
        if watching_intrusions
        else "not measurable outside 'facegate serve': the operator must attest it"
    )
    return (
        {
            "encryption": sealed_ok,
            "access_control": files_ok,
            "authorisation_management": authz_ok,
            "security_audit": report.ok,
            "intrusion_detection": True if watching_intrusions else None,
            "ledger_verified": report.ok,
            "keys_apart": keys_apart,
        },
        notes,
    )


def _sealed(core: Core) -> tuple[bool, str]:
    """Stored templates and references are sealed blobs (format byte, nonce, tag), never a
    bare vector of floats."""
    with core.db.read() as s:
        blobs = [b for (b,) in s.execute(select(t.Template.sealed).limit(_SAMPLE))]
        blobs += [b for (b,) in s.execute(select(t.Subject.ref_sealed).limit(_SAMPLE))]
    bad = [b for b in blobs if len(b) <= aead.OVERHEAD or b[0] != aead.VERSION]
    raw = [b for b in blobs if len(b) in (128 * 4, 128 * 8)]
    ok = not bad and not raw
    return ok, f"{len(blobs)} stored blobs sampled, {len(bad) + len(raw)} not sealed"


def _files(home: Path) -> tuple[bool, str]:
    if not home.exists():
        return True, "no home directory (database elsewhere)"
    loose = [p.name for p in [home, *home.iterdir()] if not private(p)]
    return not loose, (
        "home 0700, files 0600" if not loose else "readable by others: " + ", ".join(sorted(loose))
    )


def _authorisation(core: Core) -> tuple[bool, str]:
    now = core.clock()
    with core.db.read() as s:
        orphan = (
            s.scalar(
                select(func.count())
                .select_from(t.ApiKey)
                .outerjoin(t.Principal, t.Principal.id == t.ApiKey.principal_id)
                .where(
                    t.ApiKey.revoked_at.is_(None),
                    or_(t.ApiKey.expires_at.is_(None), t.ApiKey.expires_at > now),
                    or_(t.Principal.id.is_(None), t.Principal.revoked_at.is_not(None)),
                )
            )
            or 0
        )
        endless = (
            s.scalar(
                select(func.count())
                .select_from(t.ApiKey)
                .where(t.ApiKey.revoked_at.is_(None), t.ApiKey.expires_at.is_(None))
            )
            or 0
        )
        admins = (
            s.scalar(
                select(func.count())
                .select_from(t.Principal)
                .where(t.Principal.role == "admin", t.Principal.revoked_at.is_(None))
            )
            or 0
        )
    ok = orphan == 0 and endless == 0 and admins > 0
    return (
        ok,
        f"{orphan} live keys without an active principal, {endless} keys that never "
        f"expire, {admins} admins",
    )


def _keys_apart(core: Core, home: Path) -> bool:
    url = core.settings.resolved_database_url()
    place = core.keyring.keystore_place
    if place is not None and place.schema is not None:  # PostgreSQL: a schema of its own
        master_apart = core.settings.hsm.module is not None or private(home / MASTER_KEY_FILE)
        return place.schema not in ("public", "") and master_apart
    keystore_file = home / "keys.db"
    separate = keystore_file.exists() and str(keystore_file) not in url
    return separate and (core.settings.hsm.module is not None or private(home / MASTER_KEY_FILE))


def _rows_without_keys(core: Core) -> str:
    """Whether anyone's row outlived their data key. An erasure deletes the row before it
    destroys the key, so such rows mean a database older than its key store: restored from a
    backup, or rolled back, past erasures that must hold (docs/operations.md, Backups)."""
    try:
        held = core.keyring.keystore_ids()
    except RuntimeError:  # a keyring without its key store's database: nothing to compare
        return "not measured: the key store is not reachable from here"
    with core.db.read() as s:
        lost = [sid for sid in s.scalars(select(t.Subject.id)) if sid not in held]
    if not lost:
        return "every person's row has its data key"
    return (
        f"{len(lost)} people's rows remain whose data keys are destroyed: the database is "
        "older than its key store (restored from a backup, or rolled back) and they were "
        "erased since; erase them again from the ledger's erasure events"
    )


def _master_in_clear(core: Core, home: Path) -> bool:
    """Whether the master key in use is the home's key file, stored without protection."""
    if core.settings.hsm.module is not None or core.settings.master_key is not None:
        return False
    try:
        doc = json.loads((home / MASTER_KEY_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("protection") == "none"


def _installation(packs: list[str]) -> DeploymentFacts:
    """Stand-in deployment facts for decisions about the whole installation."""
    return DeploymentFacts(
        purpose="(the installation)",
        necessity="",
        legal_basis="",
        location_type="",
        alternative="",
        signage=False,
        jurisdiction="+".join(packs),
        purpose_sha256="",
        scope="application",
        capabilities=frozenset(),
        capture=None,
        retention_days=1,
        purpose_ends_at=None,
        egress=False,
        alternative_enabled=True,
        status="live",
        controller="",
        controller_contact="",
        dpo="",
        method_sha256="",
        pia=None,
        declarations=Declarations.from_dict(None),
        public_security=None,
        scheme="",
        threshold=0.0,
    )


def age_of(system: SystemFacts | None, now: datetime) -> float | None:
    """Hours since the latest self-check (None before the first)."""
    if system is None or system.checked_at is None:
        return None
    return (now - aware(system.checked_at)).total_seconds() / 3600
