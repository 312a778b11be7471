"""Templates found in whatever a leaked copy became: base64 (standard, url-safe, unpadded),
hex, lists of numbers, in JSON, CSV or plain text; other lengths ignored; a cap on size."""

from __future__ import annotations

import base64
import json
import os

import pytest

from facegate.errors import InvalidInput
from facegate.transfers import fileformat
from facegate.transfers.fileformat import templates_in

T = [os.urandom(512) for _ in range(4)]


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: base64.b64encode(b).decode(),
        lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="),
        lambda b: b.hex(),
        lambda b: b.hex().upper(),
    ],
)
def test_every_encoding_in_csv_and_json(encode) -> None:  # type: ignore[no-untyped-def]
    csv = "id,template\n" + "\n".join(f"row{i},{encode(t)}" for i, t in enumerate(T))
    assert set(templates_in(csv.encode(), {512})) == set(T)
    doc = json.dumps({"rows": [{"t": encode(t)} for t in reversed(T)]})
    assert set(templates_in(doc.encode(), {512})) == set(T)


def test_lists_of_numbers_wrong_lengths_and_duplicates() -> None:
    doc = json.dumps([list(T[0]), list(T[0]), list(os.urandom(100))])
    assert templates_in(doc.encode(), {512}) == [T[0]]
    assert templates_in(base64.b64encode(T[1]), {128}) == []


def test_a_file_beyond_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileformat, "MAX_TRACE_BYTES", 10)
    with pytest.raises(InvalidInput):
        templates_in(b"x" * 11, {512})
