"""The ceremony routes of a node (:mod:`facegate.encrypted.maker` does the work). Bodies are
frames (:mod:`facegate.encrypted.frames`) both ways: the joint key's states are large."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from facegate.encrypted import frames
from facegate.encrypted.maker import NodeCeremony

__all__ = ["MAX_CEREMONY", "ceremony_routes"]

#: a joint key's state is about 175 MB (the rotation-sum keys, twice); room to spare
MAX_CEREMONY: Final = 256 * 1024 * 1024

Step = Callable[[dict[str, Any], dict[str, bytes]], tuple[dict[str, Any], dict[str, bytes]]]


def ceremony_routes(app: FastAPI, ceremony: NodeCeremony) -> None:
    steps: dict[str, Step] = {
        "claim": lambda meta, _: (ceremony.claim(meta), {}),
        "keygen": ceremony.keygen,
        "mult": ceremony.mult,
        "install": lambda meta, blobs: (ceremony.install(meta, blobs), {}),
        "abort": lambda meta, _: (ceremony.abort(meta), {}),
    }

    def route(name: str, step: Step) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            ceremony.admits(name)  # before the body is read: a stranger's 256 MB is not
            meta, blobs = frames.unpack(await request.body())
            out_meta, out_blobs = await run_in_threadpool(step, meta, blobs)
            return Response(frames.pack(out_meta, out_blobs), media_type=frames.MEDIA_TYPE)

        return handle

    for name, step in steps.items():
        app.add_api_route(
            f"/v1/ceremony/{name}", route(name, step), methods=["POST"], include_in_schema=False
        )
