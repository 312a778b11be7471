"""Issue 12: the authorization matrix, generated from the app's route table.

Every route of the service (walked from ``app.routes``, so a new one is covered the day it is
added) is called with every credential that should not open it, and with each role's key:
the answer is the status its row in ``authz_table.py`` expects (401, 403, 404; never 200 for
the wrong credential, never a 500), in the documented error shape. A route without a row
fails here, naming itself. Runs on SQLite: who may do what is decided above the database
(the races and the schemathesis run cover PostgreSQL).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from authz_table import API, WEB_PUBLIC, Person, Public, Row, Service
from authz_world import (
    CODE_CREDENTIALS,
    KEY_CREDENTIALS,
    SERVICE_CREDENTIALS,
    WEB_CREDENTIALS,
    Req,
    World,
    build,
)
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from facegate.actors import ROLES
from facegate.api.app import create_app
from facegate.config import Settings
from facegate.gate import Gate
from facegate.web.routing import WebRoute

UNAUTHENTICATED = (
    "no key",
    "forged key",
    "revoked key",
    "revoked principal",
    "expired key",
    "access code as key",
)
PUBLIC_CREDENTIALS = ("no key", "forged key", "admin", "another operator's admin", "expired key")


def walk_routes(app: Any) -> list[tuple[str, str, bool]]:
    """(method, path, is a web page) for every route the app serves."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, Mount):
            found.append(("GET", str(ctx.path), False))
            continue
        web = isinstance(route, WebRoute)
        for method in sorted(ctx.methods or ()):
            found.append((method, str(ctx.path), web))
    return found


def _routes() -> list[tuple[str, str, bool]]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        Gate.open(settings=Settings(home=Path(tmp) / "home"), create=True) as gate,
    ):
        return walk_routes(create_app(gate))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    cells = []
    for method, path, web in _routes():
        row = API.get((method, path))
        creds: tuple[str, ...]
        if web:
            creds = WEB_CREDENTIALS
        elif row is None:
            creds = ("(no row)",)
        elif isinstance(row, Person):
            creds = CODE_CREDENTIALS
        elif isinstance(row, Public):
            creds = PUBLIC_CREDENTIALS
        elif isinstance(row, Service):
            creds = SERVICE_CREDENTIALS
        else:
            creds = KEY_CREDENTIALS
        cells += [
            pytest.param((method, path, web, cred), id=f"{method} {path} | {cred}")
            for cred in creds
        ]
    metafunc.parametrize("cell", cells)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, face_engine: Any, photo: Any
) -> Iterator[World]:
    w = build(tmp_path_factory.mktemp("authz") / "home", face_engine, photo)
    yield w
    w.client.close()
    w.gate.close()


def test_route(world: World, cell: tuple[str, str, bool, str]) -> None:
    method, path, web, credential = cell
    if web:
        _web(world, method, path, credential)
        return
    row = API.get((method, path))
    assert row is not None, f"{method} {path}: add its expectations to authz_table.API"
    if isinstance(row, Public):
        _public(world, row, credential)
    elif isinstance(row, Person):
        _person(world, row, credential)
    elif isinstance(row, Service):
        _service(world, row, credential)
    else:
        _keyed(world, row, path, credential)


def _call(w: World, req: Req, headers: dict[str, str]) -> Any:
    return w.client.request(
        req.method,
        req.url,
        headers=headers,
        json=req.json,
        data=req.data,
        files=req.files,
        content=req.content,
        follow_redirects=False,
    )


def _refused(r: Any, status: int, error: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:400])
    body: dict[str, Any] = r.json()
    assert {"error", "message", "advice"} <= body.keys(), body  # the documented shape
    if error is not None:
        assert body["error"] == error, body
    return body


def _keyed(w: World, row: Row, path: str, credential: str) -> None:
    r = _call(w, row.make(w), w.headers(credential))
    if credential in UNAUTHENTICATED:
        _refused(r, 401, "unauthenticated")
        assert r.headers.get("www-authenticate") == "Bearer"
    elif credential in ROLES:
        if credential in row.allowed:
            assert r.status_code == row.ok, (r.status_code, r.text[:400])
            if row.ok_error:
                assert r.json()["error"] == row.ok_error, r.text[:400]
        else:
            _refused(r, row.denied, "forbidden" if row.denied == 403 else "not_found")
    elif credential == "another operator's admin":
        if "admin" not in row.allowed:
            _refused(r, row.cross_denied)
        elif row.cross == "resource":
            _refused(r, 404, "not_found")
        else:  # acts for its own operator, and sees nothing of A's
            assert r.status_code == row.ok, (r.status_code, r.text[:400])
            leaked = {s for s in w.secrets if s in r.text}
            assert not leaked, f"another operator's answer names A's {leaked}"
    elif credential == "key scoped to another deployment":
        if "{deployment_id}" in path:
            _refused(r, 404, "not_found")
        else:  # a kiosk's key does nothing but its deployment's work
            _refused(r, 403, "forbidden")
    else:  # pragma: no cover - a credential added to KEY_CREDENTIALS without a rule here
        raise AssertionError(f"no rule for {credential}")


def _service(w: World, row: Service, credential: str) -> None:
    r = _call(w, row.make(w), w.service_headers(credential))
    role = credential.removeprefix("service ")
    if credential in ("no key", "forged key", "revoked key", "expired key", "bearer instead"):
        _refused(r, 401, "unauthenticated")
    elif credential == "unscoped key":  # a service key serves one deployment, named by it
        _refused(r, 403, "forbidden")
    elif credential == "another operator's service key":  # its own deployment, nothing of A's
        assert r.status_code < 500, r.text[:300]
        leaked = {s for s in w.secrets if s in r.text}
        assert not leaked, f"another operator's answer names A's {leaked}"
    elif role in row.allowed:
        assert r.status_code == row.ok, (r.status_code, r.text[:400])
    else:
        _refused(r, 403, "forbidden")


def _public(w: World, row: Public, credential: str) -> None:
    r = _call(w, row.make(w), w.headers(credential))
    assert r.status_code == row.ok, (credential, r.status_code, r.text[:300])


def _person(w: World, row: Person, credential: str) -> None:
    if credential in ("no code", "unknown code", "API key as code"):
        code = {"no code": None, "unknown code": "0" * 32, "API key as code": w.keys["admin"]}
        headers = {"X-Access-Code": code[credential]} if code[credential] else {}
        if credential == "API key as code":
            headers["Authorization"] = f"Bearer {w.keys['admin']}"
        _refused(_call(w, row.make(w, ""), headers), 401, "unauthenticated")
        return
    bystander, bystander_code = w.person()
    holder_code = w.person()[1] if credential == "another's code" else bystander_code
    before = w.gate.subject_view(bystander_code)["pseudonym"]
    r = _call(w, row.make(w, holder_code), {"X-Access-Code": holder_code})
    assert r.status_code == row.ok, (r.status_code, r.text[:400])
    again = w.client.get("/v1/subject/me", headers={"X-Access-Code": bystander_code})
    if credential == "own code":
        assert (again.status_code == 401) is row.ends, again.text[:300]
    else:  # the holder's answer names nothing of the bystander's, and leaves them be
        assert before not in r.text and bystander not in r.text
        assert again.status_code == 200 and again.json()["pseudonym"] == before


def _web(w: World, method: str, path: str, credential: str) -> None:
    url = re.sub(r"\{deployment_id\}", w.dep, path)
    url = re.sub(r"\{[^}]+\}", "x", url)
    headers = w.headers(credential)
    r = w.client.request(method, url, headers=headers, follow_redirects=False)
    assert r.status_code < 500, r.text[:300]
    if (method, path) in WEB_PUBLIC:
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return
    # a page behind a session: API credentials open nothing, the answer is the anonymous one
    anonymous = w.client.request(method, url, follow_redirects=False)
    assert r.status_code == anonymous.status_code != 200, (r.status_code, r.text[:300])
    if r.status_code in (301, 302, 303, 307):
        assert r.headers["location"].startswith(("/console/login", "/portal")), r.headers


def test_the_table_has_no_stale_rows(world: World) -> None:
    served = {(m, p) for m, p, web in walk_routes(world.client.app) if not web}
    stale = set(API) - served
    assert not stale, f"rows for routes the app no longer serves: {sorted(stale)}"
    assert json.dumps(sorted(WEB_PUBLIC))  # the web's public pages are listed explicitly
