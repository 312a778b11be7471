"""Sealed session cookies: unreadable, unforgeable, short-lived; CSRF tokens bound to them."""

from __future__ import annotations

import pytest

from facegate.web.sessions import MAX_AGE, SessionCodec

SECRET = bytes(range(32))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_sealed_session_opens_and_hides_its_data() -> None:
    codec = SessionCodec(SECRET)
    session = codec.new("portal", code="ABCDE-FGHJK-MNPQR-STVWX")
    token = codec.seal(session)
    assert "ABCDE" not in token  # encrypted, not merely signed
    assert codec.open(token) == session


def test_tampered_foreign_or_garbage_tokens_are_refused() -> None:
    codec = SessionCodec(SECRET)
    token = codec.seal(codec.new("portal", code="X"))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert codec.open(flipped) is None
    assert SessionCodec(bytes(32)).open(token) is None
    for junk in ("", "not-base64!!", "A" * 5000, "AAAA"):
        assert codec.open(junk) is None


def test_each_kind_expires_after_its_own_age() -> None:
    clock = Clock()
    codec = SessionCodec(SECRET, clock=clock)
    portal, console = codec.new("portal", code="X"), codec.new("console", pid="p")
    sealed = codec.seal(portal), codec.seal(console)
    clock.now += MAX_AGE["portal"] + 1
    assert codec.open(sealed[0]) is None
    assert codec.open(sealed[1]) == console
    clock.now += MAX_AGE["console"]
    assert codec.open(sealed[1]) is None


def test_csrf_token_is_bound_to_the_session_id() -> None:
    codec = SessionCodec(SECRET)
    a, b = codec.new(), codec.new()
    assert a.sid != b.sid
    assert codec.csrf_ok(a, codec.csrf_token(a))
    assert not codec.csrf_ok(b, codec.csrf_token(a))
    assert not codec.csrf_ok(a, "")
    assert not SessionCodec(bytes(32)).csrf_ok(a, codec.csrf_token(a))


def test_misuse_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SessionCodec(b"short")
    with pytest.raises(ValueError, match="kind"):
        SessionCodec(SECRET).new("admin")
    codec = SessionCodec(SECRET)
    with pytest.raises(ValueError, match="too large"):
        codec.seal(codec.new("anon", blob="x" * 4000))
