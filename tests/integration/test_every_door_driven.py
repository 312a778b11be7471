"""Issue 12 item 11: every CLI verb and every HTTP route is driven by at least one test.

The verbs are walked from the Typer app and the routes from the app's route table; the test
sources are read as Python (``ast``), so only real calls count: ``fg(home, "consent",
"refuse", ...)`` or a ``[..., "facegate.cli", "serve", ...]`` command line for a verb; a
client call such as ``c.post(f"/v1/deployments/{dep}/erase", ...)`` for a route (method and
path template). The generic drivers (the authorization matrix, schemathesis) do not count:
they prove that a door is guarded, not that what it does is right. The failure lists what
no test drives.
"""

from __future__ import annotations

import ast
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from test_authz_matrix import walk_routes
from typer.main import get_command

from facegate.api.app import create_app
from facegate.cli.main import app as cli_app
from facegate.config import Settings
from facegate.gate import Gate

TESTS = Path(__file__).resolve().parents[1]
#: drive every door generically, so they do not count
GENERIC = {"test_authz_matrix.py", "authz_table.py", "authz_world.py", "test_schemathesis.py"}
#: options that take a value, skipped before the verb
VALUED = {"--key", "--home"}
#: client methods that name the HTTP method
CLIENT = {"get", "post", "put", "patch", "delete", "head", "options"}
#: routes this scan cannot see driven, and who drives them (or why none needs to)
_SDK = "the official compreface-sdk calls it against facegate serve (test_compreface_sdk.py)"
_LOOP = "opened from a list of pages in a loop (test_web_console_browser.py, _security.py)"
EXEMPT = {
    ("GET", "/static"): "the mount of the pages' files (css, js): served by Starlette",
    ("HEAD", "/openapi.json"): "Starlette answers HEAD for every GET route of its own",
    ("POST", "/api/v1/recognition/subjects"): _SDK,
    ("GET", "/api/v1/recognition/subjects"): _SDK,
    ("DELETE", "/api/v1/recognition/subjects/{subject}"): _SDK,
    ("DELETE", "/api/v1/recognition/subjects"): _SDK,
    ("POST", "/api/v1/recognition/faces"): _SDK,
    ("GET", "/api/v1/recognition/faces"): _SDK,
    ("DELETE", "/api/v1/recognition/faces"): _SDK,
    ("DELETE", "/api/v1/recognition/faces/{image_id}"): _SDK,
    ("POST", "/api/v1/recognition/faces/{image_id}/verify"): _SDK,
    ("POST", "/api/v1/recognition/recognize"): _SDK,
    ("POST", "/api/v1/detection/detect"): _SDK,
    ("POST", "/api/v1/verification/verify"): _SDK,
    ("GET", "/console/account"): _LOOP,
    ("GET", "/console/deployments"): _LOOP,
    ("GET", "/console/desk"): _LOOP,
    ("GET", "/console/faces"): _LOOP,
}
#: doors of other workstreams that no test drove when this test was written: a ratchet
#: (an entry that a test now drives must be removed, and nothing may join the list)
UNDRIVEN_YET = {
    # issue 14 (transfers): the CLI and HTTP doors beside share/trace
    "facegate export", "facegate recipient list", "facegate recipient revoke",
    "facegate recipient consent", "facegate alert list", "facegate alert clear",
    "facegate alert deliver",
    "GET /v1/deployments/{deployment_id}/recipients",
    "POST /v1/deployments/{deployment_id}/recipients/{recipient_id}/revoke",
    "POST /v1/deployments/{deployment_id}/transfer-consents",
    "POST /v1/deployments/{deployment_id}/exports",
    "GET /v1/alerts", "POST /v1/alerts/{alert_id}/clear",
    # issue 11 (regulator link): driven through Python in test_regulator_*, not the CLI
    "facegate link register", "facegate link status", "facegate link push",
    "facegate link deliver-filing", "facegate link notify-incident",
    "facegate orders fetch",
    # issue 16 (template protection): custody is tested through Python in tests/unit
    "facegate custody split", "facegate custody combine",
    # issue 13 (web): the portal's last two forms, a key's revocation in the console
    "POST /portal/withdraw", "POST /portal/signout", "POST /console/keys/{key_id}/revoke",
    # issue 17 (CompreFace API): renaming a subject; the trailing-slash alias of the list
    "PUT /api/v1/recognition/subjects/{subject}", "GET /api/v1/recognition/subjects/",
}  # fmt: skip


def verbs() -> list[tuple[str, ...]]:
    """Every leaf command of the CLI, as its words (``("consent", "refuse")``)."""

    def walk(cmd: object, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        subs = getattr(cmd, "commands", None)
        if not subs:
            yield prefix
            return
        for name, sub in subs.items():
            yield from walk(sub, (*prefix, name))

    return list(walk(get_command(cli_app), ()))


def _sources() -> Iterator[ast.AST]:
    for path in sorted(TESTS.rglob("*.py")):
        if path.name not in GENERIC and path.name != Path(__file__).name:
            yield ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _text(node: ast.AST) -> str | None:
    """A string constant, or an f-string with ``{}`` where values go."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # base + "/path"
        left, right = _text(node.left), _text(node.right)
        return None if left is None and right is None else (left or "{}") + (right or "{}")
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) or "{}" if isinstance(v, ast.Constant) else "{}"
                       for v in node.values)  # fmt: skip
    return None


def _words(args: list[ast.expr]) -> tuple[str, ...]:
    """The leading command words of a command line (options and their values skipped)."""
    words: list[str] = []
    skip = False
    for arg in args:
        value = _text(arg)
        if skip:
            skip = False
            continue
        if value is None:
            break
        if value.startswith("-"):
            skip = value in VALUED
            if words:
                break
            continue
        words.append(value)
    return tuple(words)


def _prefixes(tree: ast.AST) -> dict[str, tuple[tuple[str, ...], int]]:
    """Local helpers that run the CLI: ``def run(*args)`` whose body builds
    ``["regulator", *args, ...]`` (a call ``run("approve")`` runs ``regulator approve``), or
    ``def cli(home, *args)`` running ``invoke(app, [*args, ...])``: the fixed leading words,
    and how many positional parameters come before the words."""
    found = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.args.vararg is None:
            continue
        star = fn.args.vararg.arg
        runs = any(
            isinstance(c, ast.Call) and getattr(c.func, "attr", None) == "invoke"
            for c in ast.walk(fn)
        )
        for node in ast.walk(fn):
            if isinstance(node, ast.List) and any(
                isinstance(e, ast.Starred) and getattr(e.value, "id", None) == star
                for e in node.elts
            ):
                words = _words(node.elts)
                if words or runs:
                    found[fn.name] = (words, len(fn.args.args))
    return found


def _assigned(tree: ast.AST) -> dict[str, str]:
    """``url = f"/v1/.../{idn}/reviews"``: names bound to a URL, to read ``c.post(url)``."""
    return {
        node.targets[0].id: text
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and (text := _text(node.value)) is not None
    }


def _path(url: str) -> str:
    """The path of a URL, also when a base URL was put in front (``f"{base}/healthz"``)."""
    return re.sub(r"^(\{\}|[a-z]+://[^/]+)", "", url)


def _is_command_line(node: ast.List | ast.Tuple) -> bool:
    """A literal list of words is a command line if it carries options or ``*args``
    (``["keys", "status", *home]``), not a list of names such as capabilities."""
    return any(isinstance(e, ast.Starred) or (_text(e) or "").startswith("--") for e in node.elts)


def invoked() -> tuple[set[tuple[str, ...]], set[tuple[str, str]]]:
    """The command lines and the (method, URL pattern) pairs the tests send."""
    lines: set[tuple[str, ...]] = set()
    calls: set[tuple[str, str]] = set()
    for tree in _sources():
        helpers, names = _prefixes(tree), _assigned(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "fg" and len(node.args) > 1:
                    lines.add(_words(node.args[1:]))
                elif name in helpers:
                    words, skip = helpers[name]
                    lines.add(words + _words(node.args[skip:]))
                elif name in CLIENT or name == "goto":  # c.post(url), post(c, url), goto(url)
                    for arg in node.args[:2]:
                        url = names.get(arg.id) if isinstance(arg, ast.Name) else _text(arg)
                        if url is not None and _path(url).startswith("/"):
                            calls.add(("GET" if name == "goto" else name.upper(), _path(url)))
                elif name == "request" and len(node.args) > 1:
                    method, url = _text(node.args[0]), _text(node.args[1])
                    if method and url and _path(url).startswith("/"):
                        calls.add((method.upper(), _path(url)))
            elif isinstance(node, ast.List | ast.Tuple):
                texts = [_text(e) for e in node.elts]
                if "facegate.cli" in texts:
                    lines.add(_words(node.elts[texts.index("facegate.cli") + 1 :]))
                elif _is_command_line(node):
                    lines.add(_words(node.elts))
    return lines, calls


def _pattern(template: str) -> re.Pattern[str]:
    """A path template as a regex over test URLs (an id may be a value or a literal)."""
    pieces = re.split(r"(\{[^}]+\})", template.rstrip("/") or "/")
    regex = "".join(
        (".+" if p.endswith(":path}") else "[^/?]+") if p.startswith("{") else re.escape(p)
        for p in pieces
    )
    return re.compile("^" + regex + r"/?(\?.*)?$")


def test_every_cli_verb_is_driven_by_a_test() -> None:
    lines, _ = invoked()
    missing = {
        "facegate " + " ".join(v) for v in verbs() if not any(line[: len(v)] == v for line in lines)
    }
    _ratchet(missing, "facegate ")


def test_every_http_route_is_driven_by_a_test() -> None:
    _, calls = invoked()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Gate.open(settings=Settings(home=Path(tmp) / "home"), create=True) as gate,
    ):
        routes = walk_routes(create_app(gate))
    missing = {
        f"{method} {path}"
        for method, path, _web in routes
        if (method, path) not in EXEMPT
        and not any(m == method and _pattern(path).match(url) for m, url in calls)
    }
    _ratchet(missing, "/")


def _ratchet(missing: set[str], kind: str) -> None:
    known = {d for d in UNDRIVEN_YET if d.startswith(kind) or (kind == "/" and " /" in d)}
    new = sorted(missing - known)
    assert not new, "no test drives: " + "; ".join(new)
    driven = sorted(known - missing)
    assert not driven, f"driven now, remove from UNDRIVEN_YET: {driven}"
