"""Signed confirm / cancel links (PRODUCT §10): build, verify, tamper, expire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from tidings.links import MAX_TOKEN, LinkError, MemoryUses, RedisUses, _b64, _mac, build_url, sign, verify

SECRET = "s3cret-for-tests-only-and-32-bytes-long"
OTHER = "another-secret-of-at-least-32-bytes!"
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
    later = sign("a-17", "confirm", secret=OTHER, expires=NOW + timedelta(days=365)).split(".")[0]
    assert reason(f"{later}.{token.split('.')[1]}") == "bad_signature"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert reason(sign("a-17", "confirm", secret=OTHER, expires=EXPIRES)) == "bad_signature"


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


def forge(body: str, *, secret: str = SECRET) -> str:
    """A token whose payload is `body` as written, signed with `secret` (what only the key holder can make)."""
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_b64(_mac(secret.encode(), payload))}"


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_a_secret_shorter_than_32_bytes_is_refused_for_signing_and_verifying(secret: str) -> None:
    with pytest.raises(LinkError) as caught:
        sign("a-17", "confirm", secret=secret, expires=EXPIRES)
    assert caught.value.reason in ("no_secret", "weak_secret")
    token = sign("a-17", "confirm", secret=SECRET, expires=EXPIRES)
    with pytest.raises(LinkError) as caught:
        verify(token, secret=secret, now=NOW)
    assert caught.value.reason in ("no_secret", "weak_secret")
    assert secret not in str(caught.value) or not secret


def test_a_deeply_nested_unsigned_payload_is_refused_without_being_parsed() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    payload = _b64(deep.encode())
    assert reason(f"{payload}.{_b64(b'x' * 32)}") in ("malformed", "bad_signature")


def test_a_huge_token_is_refused_by_its_length_alone() -> None:
    huge = "A" * (MAX_TOKEN + 1) + ".AAAA"
    assert reason(huge) == "malformed"
    assert reason("A" * 50_000_000 + ".AAAA") == "malformed"


def test_a_signed_far_future_expiry_is_a_claim_not_an_overflow() -> None:
    claim = verify(forge('{"s":"a-17","a":"confirm","e":99999999999999999999}'), secret=SECRET, now=NOW)
    assert claim.expires.year == 9999
    assert reason(forge('{"s":"a-17","a":"confirm","e":-99999999999999999999}')) == "expired"


@pytest.mark.parametrize("body", ['{"s":"a","a":"confirm","e":true}', '{"s":"a","a":"confirm","e":1.5}', '[1]', 'null',
                                  '{"s":1,"a":"confirm","e":1}', "[" * 100_000 + "]" * 100_000,
                                  '{"s":"\\ud800","a":"confirm","e":9999999999}'])
def test_a_signed_payload_of_the_wrong_shape_is_malformed(body: str) -> None:
    assert reason(forge(body)) == "malformed"


def test_a_single_use_token_is_accepted_once() -> None:
    uses = MemoryUses()
    token = sign("a-17", "cancel", secret=SECRET, expires=EXPIRES)
    assert verify(token, secret=SECRET, now=NOW, uses=uses).subject == "a-17"
    assert reason(token, uses=uses) == "used"
    # another link for the same visit is its own token
    assert verify(sign("a-17", "cancel", secret=SECRET, expires=EXPIRES), secret=SECRET, now=NOW, uses=uses).action == "cancel"


def test_single_use_holds_across_processes_through_redis(redis_url: str) -> None:
    import uuid

    import redis
    client = redis.Redis.from_url(redis_url)
    prefix = f"tidings-test:{uuid.uuid4().hex}:used:"
    try:
        token = sign("a-17", "cancel", secret=SECRET, expires=datetime.now(timezone.utc) + timedelta(hours=1))
        first, second = RedisUses(client, prefix=prefix), RedisUses(client, prefix=prefix)   # two hosts
        assert verify(token, secret=SECRET, uses=first).subject == "a-17"
        with pytest.raises(LinkError) as caught:
            verify(token, secret=SECRET, uses=second)
        assert caught.value.reason == "used"
        ttl = [client.ttl(k) for k in client.scan_iter(match=f"{prefix}*")]
        assert len(ttl) == 1 and 0 < ttl[0] <= 3601   # kept exactly as long as the token could be used
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def test_verify_raises_nothing_but_link_errors_on_any_input() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.text(), st.text(alphabet="AZaz09-_.=&?:/ ").map(lambda t: t * 3)))
    def check(token: str) -> None:
        try:
            verify(token, secret=SECRET, now=NOW)
        except LinkError:
            pass

    check()
