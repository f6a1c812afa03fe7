"""Which push subscriptions are addresses: an https endpoint and both keys, decodable and of the right size."""

from __future__ import annotations

import base64
import os

import pytest
from tidings import Contact, PushSubscription
from tidings.plugin_types import Channel
from tidings_push.addresses import valid_endpoint


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


P256DH = b64url(b"\x04" + os.urandom(64))
AUTH = b64url(os.urandom(16))
KEYS = {"p256dh": P256DH, "auth": AUTH}


def contact(*subscriptions: PushSubscription) -> Contact:
    return Contact(id="c-1", push=subscriptions)


def test_the_endpoints_of_subscriptions_with_both_keys_are_the_addresses(push_channel: Channel) -> None:
    phone = PushSubscription("https://fcm.googleapis.com/fcm/send/abc", KEYS)
    laptop = PushSubscription("https://updates.push.services.mozilla.com/wpush/v2/def", KEYS)

    assert push_channel.addresses(contact(phone, laptop), None) == (phone.endpoint, laptop.endpoint)


def test_subscriptions_without_keys_are_skipped(push_channel: Channel) -> None:
    keyless = PushSubscription("https://push.example/a")
    no_auth = PushSubscription("https://push.example/b", {"p256dh": P256DH})
    no_p256dh = PushSubscription("https://push.example/c", {"auth": AUTH})
    good = PushSubscription("https://push.example/d", KEYS)

    assert push_channel.addresses(contact(keyless, no_auth, no_p256dh, good), None) == ("https://push.example/d",)


def test_a_contact_without_usable_subscriptions_has_no_address(push_channel: Channel) -> None:
    assert push_channel.addresses(contact(), None) == ()
    assert push_channel.addresses(contact(PushSubscription("https://push.example/a")), None) == ()


@pytest.mark.parametrize("keys", [
    {"p256dh": b64url(b"\x04" + os.urandom(63)), "auth": AUTH},        # a point one octet short
    {"p256dh": b64url(b"\x02" + os.urandom(64)), "auth": AUTH},        # not an uncompressed point
    {"p256dh": P256DH, "auth": b64url(os.urandom(12))},                # auth is 16 octets
    {"p256dh": P256DH + "!", "auth": AUTH},                            # not base64url
    {"p256dh": P256DH, "auth": ""},
    {"p256dh": 42, "auth": AUTH},
], ids=["short-point", "compressed-point", "short-auth", "not-base64url", "empty-auth", "not-text"])
def test_keys_that_cannot_be_encrypted_for_make_no_address(push_channel: Channel, keys: dict[str, str]) -> None:
    assert push_channel.addresses(contact(PushSubscription("https://push.example/a", keys)), None) == ()


def test_padded_base64url_keys_are_accepted_as_browsers_may_send_them(push_channel: Channel) -> None:
    padded = {"p256dh": P256DH + "=", "auth": AUTH + "=="}

    assert push_channel.addresses(contact(PushSubscription("https://push.example/a", padded)), None) == ("https://push.example/a",)


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://push.example:8443/v1/abc",
    "http://127.0.0.1:8080/push/abc",
    "http://localhost:8080/push/abc",
])
def test_https_endpoints_and_plain_http_on_the_loopback_host_are_valid(endpoint: str) -> None:
    assert valid_endpoint(endpoint)


@pytest.mark.parametrize("endpoint", [
    "http://push.example/abc",            # clear text over the internet
    "ftp://push.example/abc",
    "https:///abc",                       # no host
    "https://push.example:port/abc",
    " https://push.example/abc",
    "https://push.example/a b",
    "",
])
def test_other_endpoints_are_not_valid(endpoint: str) -> None:
    assert not valid_endpoint(endpoint)


def test_an_endpoint_listed_twice_is_one_address(push_channel: Channel) -> None:
    twice = PushSubscription("https://push.example/a", KEYS)

    assert push_channel.addresses(contact(twice, twice), None) == ("https://push.example/a",)


def test_a_subscription_is_identified_by_its_endpoint_and_its_keys(push_channel: Channel) -> None:
    # what the core remembers of a gone subscription: a re-subscription at the same endpoint has new keys
    key = push_channel.address_key
    assert key is not None
    endpoint = "https://push.example/a"
    old = contact(PushSubscription(endpoint, KEYS))
    renewed = contact(PushSubscription(endpoint, {"p256dh": b64url(b"\x04" + os.urandom(64)), "auth": b64url(os.urandom(16))}))
    padded = contact(PushSubscription(endpoint, {"p256dh": P256DH + "=" * (-len(P256DH) % 4), "auth": AUTH + "=="}))

    assert key(old, endpoint) == key(contact(PushSubscription(endpoint, dict(KEYS))), endpoint) == key(padded, endpoint)
    assert key(renewed, endpoint) != key(old, endpoint)
    assert key(old, "https://push.example/other") is None
