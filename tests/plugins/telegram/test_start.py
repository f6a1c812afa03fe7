"""Signed /start links: a token Telegram accepts as a deep link's payload, naming a client until it expires."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.deployment import Deployment
from tidings.links import LinkError, sign
from tidings.testing import NOW, StubPipeline

from tidings_telegram import start_token, start_url, verify_start

SECRET = "k" * 32
LATER = NOW + timedelta(days=30)
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")   # Telegram's rule for a deep link's start parameter


def test_a_token_names_its_client_until_it_expires() -> None:
    token = start_token("c-5", secret=SECRET, expires=LATER)
    assert PAYLOAD.fullmatch(token)
    assert verify_start(token, secret=SECRET, now=NOW) == "c-5"
    assert verify_start(f"/start {token}", secret=SECRET, now=NOW) == "c-5"          # the message text as received
    assert verify_start(f"/start@SalonAnnaBot {token}", secret=SECRET, now=NOW) == "c-5"
    with pytest.raises(LinkError) as late:
        verify_start(token, secret=SECRET, now=LATER)
    assert late.value.reason == "expired"


@given(st.text(min_size=1).filter(lambda s: len(s.encode("utf-8")) <= 31))
@settings(max_examples=200, deadline=None)
def test_every_id_of_up_to_31_bytes_fits_telegrams_payload_rule_and_comes_back(client_id: str) -> None:
    token = start_token(client_id, secret=SECRET, expires=LATER)
    assert PAYLOAD.fullmatch(token)
    assert verify_start(token, secret=SECRET, now=NOW) == client_id


def test_a_uuid_client_id_fits_in_its_16_bytes() -> None:
    client = str(uuid.UUID("6f1c2e4a-0b7d-4c3e-9a1f-2d3c4b5a6978"))
    token = start_token(client, secret=SECRET, expires=LATER)
    assert len(token) == 44 and verify_start(token, secret=SECRET, now=NOW) == client


def test_an_id_that_does_not_fit_is_refused_when_the_link_is_built() -> None:
    with pytest.raises(ValueError, match="does not fit a Telegram /start link"):
        start_token("x" * 32, secret=SECRET, expires=LATER)
    with pytest.raises(ValueError):
        start_token("", secret=SECRET, expires=LATER)


def test_a_token_of_another_secret_or_altered_has_a_bad_signature() -> None:
    token = start_token("c-5", secret=SECRET, expires=LATER)
    with pytest.raises(LinkError) as other:
        verify_start(token, secret="z" * 32, now=NOW)
    assert other.value.reason == "bad_signature"
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-1] ^= 1                                          # "c-5" becomes "c-4": another client
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(LinkError) as altered:
        verify_start(forged, secret=SECRET, now=NOW)
    assert altered.value.reason == "bad_signature"


def test_a_confirm_links_token_signed_with_the_same_secret_is_no_start_token() -> None:
    link_token = sign("c-5", "confirm", secret=SECRET, expires=LATER)
    with pytest.raises(LinkError) as refused:
        verify_start(link_token, secret=SECRET, now=NOW)
    assert refused.value.reason == "malformed"


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_whatever_the_bot_receives_verify_raises_nothing_but_link_error(payload: str) -> None:
    try:
        verify_start(payload, secret=SECRET, now=NOW)
    except LinkError as e:
        assert e.reason in ("malformed", "bad_signature")


@pytest.mark.parametrize(("secret", "reason"), [("", "no_secret"), ("short", "weak_secret")])
def test_a_missing_or_weak_secret_is_refused_on_both_sides(secret: str, reason: str) -> None:
    with pytest.raises(LinkError) as building:
        start_token("c-5", secret=secret, expires=LATER)
    with pytest.raises(LinkError) as checking:
        verify_start("AAAA", secret=secret, now=NOW)
    assert building.value.reason == checking.value.reason == reason


def test_the_link_opens_the_bots_chat_with_the_token() -> None:
    link = start_url("@SalonAnnaBot", "c-5", secret=SECRET, expires=LATER)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "t.me", "/SalonAnnaBot")
    [token] = parse_qs(parts.query)["start"]
    assert verify_start(token, secret=SECRET, now=NOW) == "c-5"


# ---------------------------------------------------------------- the template global, through the pipeline

def deployment(**telegram: object) -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms", "telegram"], "triggers": ["status-change"]},
        "channels": {"sms": {"provider": "json", "url": "https://sms.example/send", "default_region": "PL"},
                     "telegram": {"bot_token": "1:x", **telegram}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": "sms", "template": "t"}],
        "templates": {"t": {"sms": "Booked! {% if telegram_start_url() %}Reminders on Telegram: "
                                   "{{ telegram_start_url() }}{% else %}See you soon.{% endif %}"}},
    })


def visit(client_id: str = "c-5") -> dict[str, object]:
    return {"id": "evt-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": client_id, "phone": "+48600100200", "consents": {"sms": True}}}}


def test_an_sms_carries_the_clients_start_link_valid_for_start_ttl(start_pipeline: Callable[..., StubPipeline]) -> None:
    stub = start_pipeline(deployment(bot_username="SalonAnnaBot", start_secret=SECRET, start_ttl="7d"))
    stub.publish(visit())
    stub.run()
    [message] = stub.recorded("sms")
    [link] = re.findall(r"https://t\.me/SalonAnnaBot\?start=([A-Za-z0-9_-]+)", message.parts["text"])
    assert verify_start(link, secret=SECRET, now=NOW + timedelta(days=6)) == "c-5"
    with pytest.raises(LinkError):
        verify_start(link, secret=SECRET, now=NOW + timedelta(days=7))


@pytest.mark.parametrize(("telegram", "client"), [
    ({}, "c-5"),                                                       # no bot_username
    ({"bot_username": "SalonAnnaBot"}, "c-5"),                         # no secret
    ({"bot_username": "SalonAnnaBot", "start_secret": SECRET}, "x" * 40),   # an id no link can carry
])
def test_without_what_a_link_needs_the_global_is_empty_and_the_message_still_goes(
        start_pipeline: Callable[..., StubPipeline], monkeypatch: pytest.MonkeyPatch,
        telegram: dict[str, str], client: str) -> None:
    monkeypatch.delenv("TIDINGS_TELEGRAM_START_SECRET", raising=False)
    stub = start_pipeline(deployment(**telegram))
    stub.publish(visit(client))
    stub.run()
    assert [m.parts["text"] for m in stub.recorded("sms")] == ["Booked! See you soon."]
