"""Issue 12: the bad-input corpus (tests/data/bad_inputs/: images, fields, headers, sizes,
encodings), each case sent to the routes it concerns on SQLite and PostgreSQL, answered 4xx
in the documented error shape, and the database byte-identical after: on SQLite the files'
bytes once the WAL is checkpointed, on PostgreSQL each table's row count and content hash.

The clock is frozen so that nothing a good request may write (an API key's last use, at most
once a minute) changes the store while the corpus runs; a warm-up request writes it first.
Failures are collected and reported together.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lawful import CN_SPEC, consent, form, live
from sqlalchemy import text

from facegate.api.app import create_app
from facegate.api.routes.subject import limiter
from facegate.config import ApiSettings, Settings
from facegate.gate import Gate
from facegate.recognition import FaceEngine

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
CASES = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
FROZEN = datetime.now(UTC)
#: cases sent (images count once per route), for the README's figure (pytest -s)
SENT: dict[str, int] = {}


def _expand(value: Any) -> Any:
    if isinstance(value, dict):
        if "$repeat" in value:
            piece, times = value["$repeat"]
            return piece * times
        if "$nan" in value:
            return float("nan")
        if "$inf" in value:
            return float("inf")
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


class World:
    def __init__(self, gate: Gate, photo: Any) -> None:
        self.gate = gate
        dep = live(gate).id
        consent(gate, dep, "alice")
        gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
        consent(gate, dep, "bob")
        self.code = consent(gate, dep, "carol").access_code
        request = gate.subject_complaint(self.code, "The gate let my brother in as me.")
        self.key = gate.issue_api_key(label="corpus").key
        self.fill = {
            "dep": dep,
            "request": request.request_id,
            "identification": "idn_none",
            "key": self.key,
            "code": self.code,
        }
        app = create_app(gate)
        app.state.subject_limiter = limiter(  # one address sends every case
            ApiSettings(subject_rate_per_address=10**6, subject_rate_per_code=10**6)
        )
        self.client = TestClient(app, raise_server_exceptions=False)

    def put(self, template: str) -> str:
        return template.format(**self.fill)

    def base(self, name: str) -> dict[str, Any]:
        if name == "consent":
            return {
                "subject_ref": "dave",
                "method": "signed_form",
                "form_sha256": form("dave"),
                "adult_attested": True,
                "notice_version": 1,
            }
        return {**CN_SPEC, "name": "Corpus gate"}

    def snapshot(self) -> dict[str, str]:
        """What must not change: the database files (SQLite) or every table (PostgreSQL)."""
        url = self.gate.settings.resolved_database_url()
        home = self.gate.settings.home
        if url.startswith("sqlite"):
            found = {}
            for name in ("facegate.db", "keys.db"):
                with sqlite3.connect(home / name) as db:
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                found[name] = hashlib.sha256((home / name).read_bytes()).hexdigest()
            return found
        with self.gate.db.engine.connect() as c:
            tables = (
                c.execute(
                    text(
                        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                        "WHERE table_schema IN ('public', 'facegate_keys') "
                        "AND table_type = 'BASE TABLE'"
                    )
                )
                .scalars()
                .all()
            )
            return {
                name: str(
                    c.execute(
                        text(
                            f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                            f"ORDER BY t::text)), '') FROM {name} t"  # names from the catalog
                        )
                    ).scalar()
                )
                for name in sorted(tables)
            }


@pytest.fixture
def world(settings: Settings, face_engine: FaceEngine, photo: Any) -> Iterator[World]:
    with Gate.open(
        settings=settings, engine=face_engine, clock=lambda: FROZEN, create=True
    ) as gate:
        w = World(gate, photo)
        # a key's last use is written on its first use: before the baseline, not during
        assert w.client.get("/v1/deployments", headers=_auth(w.key)).status_code == 200
        yield w
        w.client.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _send(w: World, case: dict[str, Any]) -> Any:
    headers: list[tuple[str, str]] = []
    if "headers" in case:
        headers = [(k, w.put(v)) for k, v in case["headers"]]
    elif case.get("auth") == "code":
        headers = [("X-Access-Code", w.code)]
    else:
        headers = [("Authorization", f"Bearer {w.key}")]
    kwargs: dict[str, Any] = {}
    if "base" in case:
        kwargs["content"] = json.dumps({**w.base(case["base"]), **_expand(case["set"])})
        headers.append(("Content-Type", "application/json"))
    elif "json" in case:
        kwargs["content"] = json.dumps(_expand(case["json"]))
        headers.append(("Content-Type", "application/json"))
    elif "raw_b64" in case:
        kwargs["content"] = base64.b64decode(case["raw_b64"])
        headers.append(("Content-Type", case["content_type"]))
    elif "raw_repeat" in case:
        piece, times = case["raw_repeat"]
        kwargs["content"] = (piece * times).encode()
        headers.append(("Content-Type", case["content_type"]))
    if "form" in case or "form_b64" in case:
        fields = {k: str(_expand(v)) for k, v in case.get("form", {}).items()}
        raw = {k: base64.b64decode(v) for k, v in case.get("form_b64", {}).items()}
        image = case.get("image")
        data = (
            (CORPUS / "images" / image).read_bytes()
            if isinstance(image, str)
            else (_expand(image).encode("latin-1") if image else b"")
        )
        files: list[tuple[str, tuple[str | None, bytes | str, str | None]]] = [
            (k, (None, v, None)) for k, v in {**fields, **raw}.items()
        ]
        files.append(("image", ("photo.jpg", data, "image/jpeg")))
        kwargs["files"] = files
    return w.client.request(case["method"], w.put(case["path"]), headers=headers, **kwargs)


def _judge(r: Any, expect: int, what: str) -> str | None:
    if r.status_code != expect:
        return f"{what}: {r.status_code} (expected {expect}) {r.text[:200]}"
    try:
        body = r.json()
    except ValueError:
        return f"{what}: the answer is not JSON: {r.text[:200]}"
    if not {"error", "message", "advice"} <= set(body):
        return f"{what}: not the documented error shape: {body}"
    return None


def _changed(world: World, baseline: dict[str, str], what: str) -> str | None:
    now = world.snapshot()
    changed = sorted(k for k in now if now[k] != baseline.get(k))
    return f"{what}: the database changed ({', '.join(changed)})" if changed else None


def test_every_bad_input_is_a_documented_4xx_and_changes_nothing(world: World) -> None:
    db = "postgres" if world.gate.settings.database_url else "sqlite"
    baseline = world.snapshot()
    # the comparison is not vacuous: a good request that writes (a refusal, ledgered) shows
    good = world.client.post(
        f"/v1/deployments/{world.fill['dep']}/refusals",
        headers=_auth(world.key),
        json={"method": "spoken"},
    )
    assert good.status_code == 201 and _changed(world, baseline, "a good request")
    baseline = world.snapshot()
    problems: list[str] = []
    for case in CASES["requests"]:
        problem = _judge(_send(world, case), case["expect"], case["name"])
        problem = problem or _changed(world, baseline, case["name"])
        problems += [problem] if problem else []
        baseline = world.snapshot()  # one failure must not make the next cases fail
    dep = world.fill["dep"]
    for image, expect in CASES["images"].items():
        data = (CORPUS / "images" / image).read_bytes()
        for route, fields in (
            ("enroll", {"subject_ref": "bob"}),
            ("verify", {"subject_ref": "alice"}),
            ("identify", {}),
        ):
            r = world.client.post(
                f"/v1/deployments/{dep}/{route}",
                headers=_auth(world.key),
                data=fields,
                files={"image": (image, data, "image/jpeg")},
            )
            problem = _judge(r, expect, f"{image} to {route}")
            problem = problem or _changed(world, baseline, f"{image} to {route}")
            problems += [problem] if problem else []
            baseline = world.snapshot()
    SENT[db] = len(CASES["requests"]) + 3 * len(CASES["images"])
    print(f"\nbad-input corpus on {db}: {SENT[db]} requests, {len(problems)} problems")
    assert not problems, "\n".join(problems)
