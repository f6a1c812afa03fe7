"""Web Push delivery against a real local push service that checks VAPID and decrypts every message."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import pytest
import requests
from py_vapid import Vapid
from tidings import PushSubscription, RenderedMessage
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings_push.webpush import MAX_PLAINTEXT, TOPIC_LENGTH, payload, topic

if TYPE_CHECKING:
    from conftest import PushService

Build = Callable[..., RenderedMessage]
SUBJECT = "mailto:ops@salon.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_a_message_arrives_decrypted_with_its_title_body_and_tag(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    # Given a browser subscribed with our application server key
    browser = push_service.subscribe(server_key=server_key)

    # When a reminder is pushed to it
    receipt = transport.send(push_message(browser, title="Przypomnienie o wizycie", body="Jutro o 14:00 — do zobaczenia!"),
                             idempotency_key="reminder-24h:apt-1:c-1:2026-03-10T13:00Z")

    # Then the browser decrypts exactly that message
    assert push_service.messages(browser) == [{"title": "Przypomnienie o wizycie", "body": "Jutro o 14:00 — do zobaczenia!",
                                               "tag": "reminder-24h:apt-1:c-1:2026-03-10T13:00Z"}]
    assert receipt.info == {"delivered": 1, "gone": []}
    assert receipt.provider_id == f"{push_service.url}/message/1"


def test_the_request_carries_ttl_urgency_topic_and_a_vapid_token_for_the_endpoint_origin(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    before = int(time.time())

    transport.send(push_message(browser), idempotency_key="key-1")

    [received] = push_service.received
    assert received.headers["ttl"] == "3600"
    assert received.headers["urgency"] == "high"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["topic"] == topic("key-1")
    assert received.headers["authorization"].startswith("vapid t=")
    assert received.claims["aud"] == push_service.url
    assert received.claims["sub"] == SUBJECT
    assert before + 11 * 3600 <= received.claims["exp"] <= int(time.time()) + 12 * 3600


def test_a_retried_message_has_the_same_topic_so_the_service_replaces_it(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)

    transport.send(push_message(browser), idempotency_key="reminder-24h:apt-1")
    transport.send(push_message(browser), idempotency_key="reminder-24h:apt-1")
    transport.send(push_message(browser), idempotency_key="reminder-24h:apt-2")

    first, retry, other = (r.headers["topic"] for r in push_service.received)
    assert first == retry != other
    assert len(first) == TOPIC_LENGTH


def test_the_receiver_refuses_a_token_signed_by_another_key_than_the_one_it_names(
        push_service: PushService, vapid: Vapid) -> None:
    # Given a token signed with an attacker's key, but naming our public key in k=
    attacker = Vapid()
    attacker.generate_keys()
    claims = {"aud": push_service.url, "sub": SUBJECT, "exp": int(time.time()) + 3600}
    token = attacker.sign(claims)["Authorization"].split("t=", 1)[1].split(",", 1)[0]
    forged = f"vapid t={token}, k={push_service.key_of(vapid)}"
    genuine = vapid.sign(claims)["Authorization"]

    # Then the receiver's check tells them apart
    assert push_service.verify(genuine, now=time.time())["aud"] == push_service.url
    with pytest.raises(push_service.Refused, match="signature"):
        push_service.verify(forged, now=time.time())

    # And over HTTP the forged request is answered 401 and nothing is recorded
    browser = push_service.subscribe(server_key=None)
    response = requests.post(browser.endpoint, data=b"x", timeout=5,
                             headers={"Authorization": forged, "TTL": "60", "Content-Encoding": "aes128gcm"})
    assert response.status_code == 401
    assert push_service.refused == [(401, "the signature does not match k")]
    assert push_service.received == []


def test_the_receiver_refuses_a_token_for_another_origin_or_already_expired(
        push_service: PushService, vapid: Vapid) -> None:
    now = time.time()
    other_origin = vapid.sign({"aud": "https://push.example", "sub": SUBJECT, "exp": int(now) + 3600})
    expired = vapid.sign({"aud": push_service.url, "sub": SUBJECT, "exp": int(now) - 1})

    with pytest.raises(push_service.Refused, match="aud"):
        push_service.verify(other_origin["Authorization"], now=now)
    with pytest.raises(push_service.Refused, match="exp"):
        push_service.verify(expired["Authorization"], now=now)


def test_a_subscription_made_for_another_server_key_is_a_permanent_rejection(
        push_service: PushService, transport: Any, push_message: Build) -> None:
    # Given a browser that subscribed with some other application's key
    someone_else = Vapid()
    someone_else.generate_keys()
    browser = push_service.subscribe(server_key=push_service.key_of(someone_else))

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "provider_rejected"
    assert failure.value.details["failed"] == [{"endpoint": browser.endpoint, "reason": "provider_rejected", "status": 403}]
    assert push_service.received == []


def test_a_gone_subscription_is_a_permanent_failure_naming_its_endpoint(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 410)

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "subscription_gone"
    assert failure.value.details == {"gone": [browser.endpoint]}


def test_an_unknown_subscription_404_counts_as_gone_too(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    unknown = PushSubscription(endpoint=f"{push_service.url}/push/never-subscribed",
                               keys=push_service.subscribe(server_key=server_key).subscription.keys)

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(unknown), idempotency_key="k")

    assert failure.value.reason == "subscription_gone"
    assert failure.value.details["gone"] == [unknown.endpoint]


def test_when_one_of_two_subscriptions_is_gone_the_other_gets_the_message_and_the_gone_one_is_listed(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    # Given a phone that unsubscribed and a laptop that did not
    phone, laptop = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)
    push_service.answer(phone, 410)

    receipt = transport.send(push_message(phone, laptop), idempotency_key="k")

    assert receipt.info == {"delivered": 1, "gone": [phone.endpoint]}
    assert push_service.messages(laptop) == [{"title": "Visit reminder", "body": "See you tomorrow at 14:00 at Old Town.",
                                              "tag": "k"}]
    assert push_service.messages(phone) == []


def test_only_the_addresses_the_core_names_are_posted_to(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    # Given a laptop subscription the core knows to be gone: it leaves it out of the message's addresses
    phone, laptop = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)
    message = attrs.evolve(push_message(phone, laptop), addresses=(phone.endpoint,))

    receipt = transport.send(message, idempotency_key="k")

    assert receipt.info == {"delivered": 1, "gone": []}
    assert push_service.messages(laptop) == [] and len(push_service.messages(phone)) == 1


def test_every_subscription_gets_its_own_encryption(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    phone, laptop = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)

    receipt = transport.send(push_message(phone, laptop), idempotency_key="k")

    assert receipt.info == {"delivered": 2, "gone": []}
    assert push_service.messages(phone) == push_service.messages(laptop) != []


def test_a_503_is_a_transient_failure(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 503)

    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "provider_unavailable"
    assert failure.value.details["status"] == 503


def test_a_429_is_a_transient_failure_passing_on_retry_after(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 429, {"Retry-After": "30"})

    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "rate_limited"
    assert failure.value.details["retry_after"] == 30.0
    assert failure.value.retry_after == 30.0        # for the core's retry to wait as the push service asked


def test_a_push_service_that_does_not_answer_in_time_is_a_transient_failure(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.hang(browser)

    started = time.monotonic()
    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "timeout"
    assert time.monotonic() - started < 5


def test_a_push_service_that_cannot_be_reached_is_a_transient_failure(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.stop()   # nothing listens on its port any more

    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "connection_failed"


def test_a_gone_subscription_is_listed_even_when_another_one_fails_for_now(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    gone, busy = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)
    push_service.answer(gone, 404)
    push_service.answer(busy, 502)

    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(push_message(gone, busy), idempotency_key="k")

    assert failure.value.details["gone"] == [gone.endpoint]


def test_a_delivery_to_one_device_is_a_success_even_when_another_fails_for_now(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    # a retry would show the message twice on the device that has it
    ok, busy = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)
    push_service.answer(busy, 503)

    receipt = transport.send(push_message(ok, busy), idempotency_key="k")

    assert receipt.info == {"delivered": 1, "gone": [],
                            "failed": [{"endpoint": busy.endpoint, "reason": "provider_unavailable", "status": 503}]}


def test_another_4xx_is_a_permanent_provider_rejection(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 400)

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(browser), idempotency_key="k")

    assert failure.value.reason == "provider_rejected"


def test_keys_that_are_no_point_on_the_curve_are_an_invalid_address_and_nothing_is_sent(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    broken = PushSubscription(endpoint=browser.endpoint,
                              keys={"p256dh": b64url(b"\x04" + b"\xff" * 64), "auth": b64url(b"a" * 16)})

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(broken), idempotency_key="k")

    assert failure.value.reason == "invalid_address"
    assert push_service.received == [] and push_service.refused == []


def test_a_recipient_without_a_usable_subscription_is_an_invalid_address(
        push_service: PushService, transport: Any, push_message: Build) -> None:
    keyless = PushSubscription(endpoint=f"{push_service.url}/push/x")

    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(push_message(keyless), idempotency_key="k")

    assert failure.value.reason == "invalid_address"
    assert push_service.refused == []


def test_a_body_too_long_for_one_push_message_is_shortened_and_still_arrives(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    # Given a body that makes the encrypted message far larger than the 4096 octets services take
    browser = push_service.subscribe(server_key=server_key)
    body = "See you tomorrow at Old Town! " * 400

    receipt = transport.send(push_message(browser, body=body), idempotency_key="k")

    # Then it is cut to exactly what fits, and arrives
    [message] = push_service.messages(browser)
    assert message["body"].endswith("…")
    assert body.startswith(message["body"][:-1])
    assert len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()) == MAX_PLAINTEXT
    assert receipt.info["truncated"] is True


def test_a_long_body_in_a_non_latin_script_is_cut_on_a_character_boundary(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    body = "Zażółć gęślą jaźń — 🌸. " * 300

    transport.send(push_message(browser, body=body), idempotency_key="k")

    [message] = push_service.messages(browser)
    assert body.startswith(message["body"][:-1])
    assert message["body"].endswith("…")


def test_the_payload_is_cut_to_the_largest_size_one_push_message_holds() -> None:
    data, truncated = payload("Title", "x" * 10_000, tag="k")

    assert truncated
    assert len(data) == MAX_PLAINTEXT
    assert payload("Title", "short", tag="k") == (b'{"title":"Title","body":"short","tag":"k"}', False)


def test_one_http_connection_and_one_vapid_token_serve_many_messages(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browsers = [push_service.subscribe(server_key=server_key) for _ in range(3)]

    for i, browser in enumerate(browsers):
        transport.send(push_message(browser), idempotency_key=f"k{i}")

    assert len({r.connection for r in push_service.received}) == 1
    assert len({r.headers["authorization"] for r in push_service.received}) == 1


def test_a_vapid_token_is_renewed_in_the_last_hour_of_its_life(
        push_service: PushService, server_key: str, transport: Any, push_message: Build) -> None:
    browser = push_service.subscribe(server_key=server_key)
    clock = [time.time()]
    transport.clock = lambda: clock[0]

    transport.send(push_message(browser), idempotency_key="k")
    clock[0] += 10 * 3600
    transport.send(push_message(browser), idempotency_key="k")
    clock[0] += 1.5 * 3600
    transport.send(push_message(browser), idempotency_key="k")

    first, still, renewed = (r.headers["authorization"] for r in push_service.received)

    assert first == still != renewed


def test_the_key_can_also_be_the_raw_base64url_scalar_web_push_libraries_print(
        push_service: PushService, server_key: str, vapid: Vapid, push_channel: Any, push_message: Build) -> None:
    raw = b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))
    connected = push_channel.connect(push_channel.config_type(vapid_private_key=raw, vapid_subject=SUBJECT))
    browser = push_service.subscribe(server_key=server_key)
    try:
        connected.send(push_message(browser), idempotency_key="k")
    finally:
        connected.close()

    assert len(push_service.messages(browser)) == 1
    assert push_service.received[0].headers["ttl"] == "86400"
    assert push_service.received[0].headers["urgency"] == "normal"
