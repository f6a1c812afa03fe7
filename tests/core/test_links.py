"""Signed confirm / cancel links (PRODUCT §10): build, verify, tamper, expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from tidings.links import LinkError, build_url, sign, verify

SECRET = "s3cret-for-tests-only"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
EXPIRES = NOW + timedelta(days=7)


def reason(token: str, **kwargs: object) -> str:
    with pytest.raises(LinkError) as caught:
        verify(token, **{"secret": SECRET, "now": NOW, **kwargs})  # type: ignore[arg-type]
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    return caught.value.reason


def test_a_token_round_trips_its_subject_action_and_expiry() -> None:
    claim = verify(sign("a-17", "confirm", secret=SECRET, expires=EXPIRES), secret=SECRET, now=NOW)
    assert (claim.subject, claim.action, claim.expires) == ("a-17", "confirm", EXPIRES)


def test_a_unicode_subject_round_trips() -> None:
    assert verify(sign("wizyta-żółć-🙂", "cancel", secret=SECRET, expires=EXPIRES), secret=SECRET, now=NOW).subject == "wizyta-żółć-🙂"


def test_a_link_points_at_the_action_and_its_token_verifies() -> None:
    url = build_url("https://salon.example/visit/?lang=pl", "a-17", "cancel", secret=SECRET, expires=EXPIRES)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "salon.example", "/visit/cancel")
    query = parse_qs(parts.query)
    assert query["lang"] == ["pl"]
    assert verify(query["token"][0], secret=SECRET, now=NOW).action == "cancel"
    assert verify(url, secret=SECRET, now=NOW).subject == "a-17"     # the whole link is accepted too


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_a_tampered_token_is_refused(where: str) -> None:
    token = sign("a-17", "confirm", secret=SECRET, expires=EXPIRES)
    payload, signature = token.split(".")
    if where == "payload":   # another subject, with the old signature
        forged = sign("a-18", "confirm", secret=SECRET, expires=EXPIRES).split(".")[0]
        assert reason(f"{forged}.{signature}") == "bad_signature"
    else:
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        assert reason(f"{payload}.{flipped}") == "bad_signature"


def test_a_longer_expiry_cannot_be_forged() -> None:
    token = sign("a-17", "confirm", secret=SECRET, expires=NOW + timedelta(minutes=1))
    later = sign("a-17", "confirm", secret="guess", expires=NOW + timedelta(days=365)).split(".")[0]
    assert reason(f"{later}.{token.split('.')[1]}") == "bad_signature"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert reason(sign("a-17", "confirm", secret="other", expires=EXPIRES)) == "bad_signature"


def test_a_token_expires_at_its_expiry() -> None:
    token = sign("a-17", "confirm", secret=SECRET, expires=EXPIRES)
    assert verify(token, secret=SECRET, now=EXPIRES - timedelta(seconds=1)).subject == "a-17"
    assert reason(token, now=EXPIRES) == "expired"
    assert reason(token, now=EXPIRES + timedelta(days=1)) == "expired"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!!.???", "e30.", ".abc", "bm90IGpzb24.c2ln"])
def test_a_malformed_token_is_refused(token: str) -> None:
    assert reason(token) in ("malformed", "bad_signature")
    if "." not in token or token.count(".") > 1 or "!" in token:
        assert reason(token) == "malformed"


def test_the_action_can_be_required() -> None:
    token = sign("a-17", "cancel", secret=SECRET, expires=EXPIRES)
    assert reason(token, action="confirm") == "wrong_action"
    assert verify(token, secret=SECRET, now=NOW, action="cancel").action == "cancel"


def test_the_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    token = sign("a-17", "confirm", secret=SECRET, expires=EXPIRES)
    monkeypatch.setenv("TIDINGS_LINK_SECRET", SECRET)
    assert verify(token, now=NOW).subject == "a-17"
    monkeypatch.delenv("TIDINGS_LINK_SECRET")
    with pytest.raises(LinkError) as caught:
        verify(token, now=NOW)
    assert caught.value.reason == "no_secret"


def test_an_action_must_be_a_plain_name() -> None:
    with pytest.raises(ValueError, match="is not an action"):
        sign("a-17", "Confirm!", secret=SECRET, expires=EXPIRES)
