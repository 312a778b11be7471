"""Leak drill (issue 14): export to three recipients, leak a part of one, trace it.

On every photo of the shared sets (each a person enrolled in one deployment of a real Gate):

1. share or export everyone to three recipients (a domestic processor, a processor abroad
   under a standard contract, a domestic controller);
2. leak 5 % of one export, re-ordered, ids dropped or kept, re-encoded (JSON base64, CSV
   hex, CSV url-safe base64, lists of numbers), and ask ``trace``: over ``--trials`` leaks,
   how often it names the right recipient, and how often any wrong one;
3. the fewest templates that suffice: leaks of 1, 2, 3 and 5 templates, with and without 10 %
   of their bits flipped; and leaks of templates made under keys the operator never had
   (another installation's export): how often a recipient is wrongly named;
4. canaries: every photo's embedding through the watch every probe passes (0 alarms wanted),
   and every canary of every export, inverted with the export's key by its holder and sent
   as a 1:N probe: requests until the alarm (1 wanted);
5. the exports keep matching and link nowhere: same-person photo pairs accepted under the
   export's key as under the deployment's, and the best similarity between two exports.

Usage: ``nice python bench/leak_drill.py [--trials N] [--faces DIR]``; the last line is JSON.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from drill_common import DrillEngine, Photo, default_faces, every_photo
from facegate.config import Settings
from facegate.errors import FacegateError, PolicyDenied
from facegate.gate import Gate
from facegate.policy import Act
from facegate.storage import tables as t
from facegate.templates import get_scheme
from facegate.templates.hazmat import hamming
from facegate.transfers.canaries import canary_ids, row_id
from facegate.transfers.keys import open_export_key
from facegate.transfers.reprotect import ExportKeys, rebuild
from facegate.transfers.watch import watch_probe

SPEC: dict[str, Any] = {
    "name": "Compound gate",
    "purpose": "Residents open the compound gate with their face",
    "location": "residential_compound",
    "alternative": "key card or the staffed gatehouse",
    "jurisdiction": "cn",
    "legal_basis": "consent",
    "retention_days": 365,
    "capabilities": ["verify", "identify"],
    "capture": "on_request",
    "signage": True,
    "alternative_penalty": False,
    "egress": True,
    "pia": {k: f"The {k} of this drill, written out in full." for k in
            ("lawfulness", "impact", "risks", "safeguards", "conclusion")},
}  # fmt: skip
RECIPIENTS = (
    ("Property Co", "processor", "CN", "none", "share"),
    ("Cloud Ltd", "processor", "SG", "standard_contract", "export"),
    ("Partner Inc", "controller", "CN", "none", "share"),
)


def setup(home: Path, engine: DrillEngine, photos: list[Photo]) -> tuple[Gate, str, set[int]]:
    gate = Gate.open(settings=Settings(home=home), engine=engine, create=True)
    gate.set_operator(name="Drill Property Management", contact="+86 21 5555 0100",
                      dpo="Drill DPO, dpo@drill.example")  # fmt: skip
    dep = gate.create_deployment(**SPEC)
    dpo = gate.acting_as(gate.create_principal("Drill DPO", "dpo").api_key.key)
    dpo.sign_pia(dep.id, necessity="Cards are lent and copied; the card stays free.", answers=None)
    enrolled = set()
    for i, p in enumerate(photos):
        ref = f"p{i:04d}"
        gate.give_consent(dep.id, ref, method="explicit_click", adult_attested=True,
                          egress=True, disclosure=True)  # fmt: skip
        try:
            gate.enroll(dep.id, ref, p.data)
            enrolled.add(i)
        except FacegateError as err:  # e.g. a photo the quality check refuses for enrolment
            print(f"not enrolled: {p.path.name}: {err.message}", file=sys.stderr)
    return gate, dep.id, enrolled


def export_all(gate: Gate, dep: str, people: int) -> list[Any]:
    outs = []
    for name, role, country, mechanism, verb in RECIPIENTS:
        rec = gate.add_recipient(
            dep, name=name, contact=f"privacy@{name.split()[0].lower()}.example", role=role,
            country=country, purpose=SPEC["purpose"], same_purpose=True, retention_days=365,
            irrevocable=False, for_profit=False, mechanism=mechanism, max_people=people,
            agreement_sha256=f"{len(outs):064x}", ends_at=datetime.now(UTC) + timedelta(days=365),
        )  # fmt: skip
        method = gate.share if verb == "share" else gate.export
        outs.append(method(dep, rec.id, everyone=True))
    return outs


def encode(rows: list[tuple[str, bytes]], how: str, keep_ids: bool) -> bytes:
    if how == "json-base64":
        body = [{"id": r, "t": base64.b64encode(x).decode()} if keep_ids else
                base64.b64encode(x).decode() for r, x in rows]  # fmt: skip
        return json.dumps(body).encode()
    if how == "csv-hex":
        return "\n".join(f"{r},{x.hex()}" if keep_ids else x.hex() for r, x in rows).encode()
    if how == "csv-base64url":
        lines = [base64.urlsafe_b64encode(x).decode().rstrip("=") for _, x in rows]
        return ("template\n" + "\n".join(lines)).encode()
    return json.dumps([list(x) for _, x in rows]).encode()  # lists of numbers


def rows_of(out: Any) -> list[tuple[str, bytes]]:
    doc = json.loads(out.file)
    return [(r["id"], base64.b64decode(r["template"])) for r in doc["rows"]]


def flip(x: bytes, rate: float, rng: random.Random) -> bytes:
    bits = np.unpackbits(np.frombuffer(x, dtype=np.uint8))
    gen = np.random.default_rng(rng.getrandbits(64))
    return np.packbits(bits ^ (gen.random(bits.size) < rate).astype(np.uint8)).tobytes()


def leak_trials(gate: Gate, outs: list[Any], trials: int, rng: random.Random) -> dict[str, Any]:
    formats = ("json-base64", "csv-hex", "csv-base64url", "numbers")
    right = wrong = 0
    sizes: list[int] = []
    for _ in range(trials):
        j = rng.randrange(len(outs))
        rows = rows_of(outs[j])
        leaked = rng.sample(rows, max(1, round(0.05 * len(rows))))  # re-ordered by sampling
        sizes.append(len(leaked))
        found = gate.trace(encode(leaked, rng.choice(formats), rng.random() < 0.5))
        right += found.export_id == outs[j].export_id
        wrong += found.export_id not in {None, outs[j].export_id}
    return {"trials": trials, "templates_leaked": sizes[0], "right": right, "wrong": wrong}


def few_templates(gate: Gate, outs: list[Any], trials: int, rng: random.Random) -> dict[str, Any]:
    """Leaks of a handful of templates; and of one, with bits flipped to hide its origin
    (a template with 20 % of its bits flipped is only 0.80 similar to itself: it no longer
    reliably matches its owner, the threshold being 0.80)."""
    out: dict[str, Any] = {}
    cases = [(n, 0.0) for n in (1, 2, 3, 5)] + [(1, r) for r in (0.10, 0.20, 0.30)]
    for n, rate in cases:
        right = wrong = 0
        for _ in range(trials):
            j = rng.randrange(len(outs))
            picked = rng.sample(rows_of(outs[j]), n)
            leaked = [(r, flip(x, rate, rng) if rate else x) for r, x in picked]
            found = gate.trace(encode(leaked, "csv-hex", False))
            right += found.export_id == outs[j].export_id
            wrong += found.export_id not in {None, outs[j].export_id}
        out[f"{n} templates, {round(rate * 100)}% bits flipped"] = {"right": right, "wrong": wrong}
    return out


def foreign(gate: Gate, others: list[Any], trials: int, rng: random.Random) -> dict[str, int]:
    """Leaks of another installation's exports: nobody here may be named."""
    named = 0
    for _ in range(trials):
        rows = rows_of(rng.choice(others))
        named += gate.trace(encode(rng.sample(rows, 5), "csv-hex", False)).verdict != "none"
    return {"trials": trials, "wrongly_named": named}


def canary_figures(
    gate: Gate, engine: DrillEngine, dep: str, photos: list[Photo], outs: list[Any]
) -> dict[str, Any]:
    core = gate.core
    with core.db.read() as s:
        row = s.get(t.Deployment, dep)
        assert row is not None
        s.expunge(row)
    false_alarms = 0
    for p in photos:  # the check every probe of every deployment passes, on every photo
        try:
            watch_probe(core, gate.actor, row, p.embedding.astype(np.float32), Act.SCAN)
        except PolicyDenied:
            false_alarms += 1
    other = gate.create_deployment(**{**SPEC, "name": "Another door"}).id
    dpo = gate.acting_as(gate.create_principal("DPO 2", "dpo").api_key.key)
    dpo.sign_pia(other, necessity="Cards are lent and copied; the card stays free.", answers=None)
    requests_until_alarm, canaries = [], 0
    for out in outs:
        key = json.loads(out.key_file)
        seed, scheme = base64.b64decode(key["transform_seed"]), get_scheme(key["scheme"])
        with core.db.read() as s:
            exp = s.get(t.TransferExport, out.export_id)
            assert exp is not None
            ek = ExportKeys.of(open_export_key(core, exp))
            planted = set(canary_ids(ek.id_key, exp.canaries))
        for rid, template in rows_of(out):
            if rid not in planted:
                continue
            canaries += 1
            estimate = rebuild(scheme, seed, np.frombuffer(template, np.uint8)[None])[0]
            probe, sent = engine.plant(estimate), 0
            while sent < 3:
                sent += 1
                try:
                    gate.acting_as(_desk(gate)).identify(other, probe)
                except PolicyDenied as err:
                    if out.export_id in err.message:
                        break
            requests_until_alarm.append(sent)
    return {
        "photos_probed": len(photos),
        "false_alarms": false_alarms,
        "canaries_probed": canaries,
        "alarm_in_first_request": sum(1 for n in requests_until_alarm if n == 1),
    }


_DESKS: list[str] = []


def _desk(gate: Gate) -> str:
    """A principal per probe, so that no sweep of one desk's searches interferes."""
    _DESKS.append(gate.create_principal(f"Desk {len(_DESKS)}", "operator").api_key.key)
    return _DESKS[-1]


def matching(
    gate: Gate, dep: str, photos: list[Photo], outs: list[Any], enrolled: set[int]
) -> dict[str, Any]:
    """Same-identity pairs accepted under an export's key and under the deployment's."""
    core = gate.core
    scheme = get_scheme(outs[0].scheme)
    threshold = scheme.default_threshold
    with core.db.read() as s:
        exp = s.get(t.TransferExport, outs[0].export_id)
        row = s.get(t.Deployment, dep)
        assert exp is not None and row is not None
        ek = ExportKeys.of(open_export_key(core, exp))
        refs = {
            core.keyring.open_ref(row, sub): sub.pseudonym
            for sub in s.scalars(select(t.Subject).where(t.Subject.deployment_id == dep))
        }
    by_id = dict(rows_of(outs[0]))
    protector = core.keyring.protector(row)
    seed = base64.b64decode(json.loads(outs[0].key_file)["transform_seed"])
    folders = [i for i in sorted(enrolled) if not photos[i].identity.startswith("/")]
    genuine = {"deployment": 0, "export": 0, "pairs": 0}
    for a in folders:
        for b in folders:
            if a < b and photos[a].identity == photos[b].identity:
                stored = protector.protect(photos[a].embedding)
                exported = by_id[row_id(ek.id_key, refs[f"p{a:04d}"])]
                probe_d = protector.protect(photos[b].embedding)
                probe_e = scheme.protect(photos[b].embedding, seed)
                genuine["pairs"] += 1
                genuine["deployment"] += hamming.similarity(stored, probe_d) >= threshold
                genuine["export"] += hamming.similarity(exported, probe_e) >= threshold
    a_rows = np.frombuffer(b"".join(x for _, x in rows_of(outs[0])), np.uint8).reshape(
        -1, scheme.template_bytes
    )
    b_rows = np.frombuffer(b"".join(x for _, x in rows_of(outs[1])), np.uint8).reshape(
        -1, scheme.template_bytes
    )
    best = [float(hamming.similarity_many(r, b_rows).max()) for r in a_rows[:200]]
    return {
        "same_person_pairs": genuine["pairs"],
        "accepted_under_deployment_key": genuine["deployment"] / max(1, genuine["pairs"]),
        "accepted_under_export_key": genuine["export"] / max(1, genuine["pairs"]),
        "best_similarity_across_two_exports": round(max(best), 4),
        "mean_best_similarity_across_two_exports": round(float(np.mean(best)), 4),
        "threshold": threshold,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--faces", type=Path, default=default_faces())
    args = ap.parse_args()
    started = time.perf_counter()
    photos = every_photo(args.faces)
    engine = DrillEngine(photos)
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        gate, dep, enrolled = setup(Path(tmp) / "home", engine, photos)
        outs = export_all(gate, dep, len(photos))
        print(f"{len(photos)} people, exports of {[o.rows for o in outs]} rows", file=sys.stderr)
        other, other_dep, _ = setup(Path(tmp) / "other", engine, photos[:60])
        others = export_all(other, other_dep, 60)
        figures = {
            "photos": len(photos),
            "people_exported": outs[0].people,
            "export_rows": [o.rows for o in outs],
            "leak_5_percent": leak_trials(gate, outs, args.trials, rng),
            "few_templates": few_templates(gate, outs, args.trials // 4, rng),
            "foreign_leaks": foreign(gate, others, args.trials // 2, rng),
            "canaries": canary_figures(gate, engine, dep, photos, outs),
            "matching": matching(gate, dep, photos, outs, enrolled),
            "seconds": round(time.perf_counter() - started, 1),
        }
        other.close()
        gate.close()
    for k, v in figures.items():
        print(f"{k}: {v}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
