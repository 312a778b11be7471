"""The ceremony's binary frames, and the body limit a node's ceremony routes get: what is
packed comes back whole, anything else is refused with a clear error, and only the
ceremony's paths are allowed the large bodies."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from facegate.api.limits import BodyLimit
from facegate.encrypted import frames
from facegate.errors import InvalidInput


def test_frames_round_trip_binary_blobs() -> None:
    blobs = {"context": b"\x00\n" * 50, "empty": b"", "key": bytes(range(256)) * 3}
    meta, back = frames.unpack(frames.pack({"ceremony": "ab", "index": 2}, blobs))
    assert meta == {"ceremony": "ab", "index": 2} and back == blobs


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no header line",
        b'{"meta": {}, "blobs": [["a", 5]]}\nabc',  # shorter than said
        b'{"meta": {}, "blobs": [["a", 1]]}\nabc',  # longer than said
        b'{"meta": {}, "blobs": [["a", -1]]}\n',
        b'{"meta": {}, "blobs": [["a", 1], ["a", 1]]}\nab',  # one name twice
        b'{"meta": [], "blobs": []}\n',
        b'{"meta": {}, "blobs": [["a", "1"]]}\nx',
        b"[1, 2]\n",
    ],
)
def test_frames_refuse_what_pack_did_not_make(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="ceremony message"):
        frames.unpack(body)


def test_only_the_ceremony_paths_get_the_larger_body_limit() -> None:
    app = FastAPI()
    app.add_middleware(BodyLimit, max_bytes=1000, larger={"/v1/ceremony/": 500_000})

    async def size(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    for path in ("/v1/ceremony/keygen", "/v1/partials"):
        app.add_api_route(path, size, methods=["POST"])
    client = TestClient(app)
    big = b"x" * 200_000
    assert client.post("/v1/ceremony/keygen", content=big).json() == {"size": len(big)}
    refused = client.post("/v1/partials", content=big)
    assert refused.status_code == 413 and json.loads(refused.text)["error"] == "image_too_large"
    assert client.post("/v1/ceremony/keygen", content=b"x" * 600_000).status_code == 413
