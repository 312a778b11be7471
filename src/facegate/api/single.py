"""One value per name: a request body that names a field twice is refused.

JSON parsers keep the last of two equal keys and form parsers, depending on the framework,
the first or the last; a caller (or a proxy that appends a field) can thereby state a legal
fact two ways, ``"age": 10`` and ``"age": 30`` in one consent, and which one counts would be
an accident of parsing. Every API route depends on :func:`single_valued`, which refuses such
a body with 400 before the route sees it; a form field the route takes as a list (camera
frames), or does not take at all, may repeat. The body was already read and parsed by
FastAPI: this reads the cached copy, so nothing is received twice.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Final

from fastapi import Request
from fastapi.routing import APIRoute

from facegate.errors import InvalidInput

__all__ = ["single_valued"]

_FORMS: Final = ("multipart/form-data", "application/x-www-form-urlencoded")
_ADVICE: Final = "Send each field once: of two values, which one counts would be ambiguous."


async def single_valued(request: Request) -> None:
    """Refuse a JSON object with a repeated key, or a form that repeats a field the route
    takes as one value."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in _FORMS:
        route = request.scope.get("route")
        single = _scalars(route) if isinstance(route, APIRoute) else frozenset()
        seen: set[str] = set()
        for name, _ in (await request.form()).multi_items():
            if name in seen and name in single:
                raise InvalidInput(
                    f"the form field {name!r} is sent more than once", advice=_ADVICE
                )
            seen.add(name)
    elif kind == "application/json" or kind.endswith("+json"):
        body = await request.body()
        try:
            json.loads(body, object_pairs_hook=_one_each)
        except _Repeated as repeated:
            raise InvalidInput(
                f"the JSON body names {repeated.key!r} twice in one object", advice=_ADVICE
            ) from None
        except ValueError:  # not JSON: FastAPI's own answer (422) stands
            return


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _one_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Repeated(key)
        out[key] = value
    return out


#: where a route keeps its single-valued field names (routes are not hashable)
_MEMO: Final = "_facegate_single_fields"


def _scalars(route: APIRoute) -> frozenset[str]:
    """The names of the route's form fields that take one value, not a list (memoised per
    route); a field the route does not declare is never read, so it may come as it likes."""
    known: frozenset[str] | None = getattr(route, _MEMO, None)
    if known is None:
        names: set[str] = set()
        todo = [route.dependant]
        while todo:  # the route's own body fields and its dependencies'
            dependant = todo.pop()
            names.update(
                p.alias for p in dependant.body_params if not _is_list(p.field_info.annotation)
            )
            todo.extend(dependant.dependencies)
        known = frozenset(names)
        setattr(route, _MEMO, known)
    return known


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_list(typing.get_args(annotation)[0])
    return origin in (list, tuple, set, frozenset)
