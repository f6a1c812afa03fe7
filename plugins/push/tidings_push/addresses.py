"""Push addresses: which of a contact's Web Push subscriptions the channel can use.

A subscription is usable when its endpoint is an ``https`` URL with a host (or plain ``http`` on
the loopback host, ``127.0.0.1`` or ``localhost``, so tests can run a real push service locally)
and it carries both keys a browser's ``PushSubscription.toJSON()`` gives: ``p256dh``, the
subscription's P-256 public key (65 octets, uncompressed point), and ``auth``, its 16-octet
authentication secret, both base64url. Anything else could never be encrypted for (RFC 8291),
so it is not an address at all.

A subscription the push service answered 404 or 410 is gone: tidings remembers it by
`subscription_key`, the endpoint *with* its keys, and never posts to it again. A browser that
subscribes anew gets new keys (``p256dh`` and ``auth``), often at the same endpoint; the host
sends that subscription, its key differs, and it is used at once. The same endpoint sent again
with the same keys stays gone: it is the subscription the push service refused.

This module uses only the standard library: ``tidings check`` and ``simulate`` call it, and they
must not load the crypto and HTTP stack.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tidings.models import Contact, PushSubscription

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
P256DH_LENGTH = 65     # an uncompressed P-256 point: 0x04 || X || Y
AUTH_LENGTH = 16       # RFC 8291 §3.2: the authentication secret is 16 octets
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_decode(value: str) -> bytes | None:
    """`value` decoded as base64url, with or without its ``=`` padding, or None when it is not base64url."""
    text = value.strip().rstrip("=")
    if not text or any(c not in _B64URL for c in text):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def valid_endpoint(endpoint: str) -> bool:
    """Whether `endpoint` is a URL a push message can be posted to: https, or http on the loopback host."""
    if not endpoint or endpoint != endpoint.strip() or any(c.isspace() for c in endpoint):
        return False
    try:
        url = urlsplit(endpoint)
        host = url.hostname
        url.port   # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if not host:
        return False
    return url.scheme == "https" or (url.scheme == "http" and host in LOOPBACK_HOSTS)


def valid_keys(keys: Any) -> bool:
    """Whether `keys` holds a decodable ``p256dh`` public key and ``auth`` secret of the right sizes."""
    if not isinstance(keys, dict):
        return False
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        return False
    point, secret = b64url_decode(p256dh), b64url_decode(auth)
    return (point is not None and len(point) == P256DH_LENGTH and point[0] == 0x04
            and secret is not None and len(secret) == AUTH_LENGTH)


def usable_subscriptions(contact: Contact | None) -> tuple[PushSubscription, ...]:
    """The contact's subscriptions that can be sent to, in their order, each endpoint once."""
    if contact is None:
        return ()
    seen: set[str] = set()
    usable = []
    for subscription in contact.push:
        if subscription.endpoint in seen:
            continue
        if valid_endpoint(subscription.endpoint) and valid_keys(subscription.keys):
            seen.add(subscription.endpoint)
            usable.append(subscription)
    return tuple(usable)


def push_addresses(contact: Contact, settings: Any = None) -> tuple[str, ...]:
    """The endpoints of `contact`'s usable push subscriptions; ``()`` when it has none.

    Args:
        contact: the recipient; its ``push`` subscriptions come from the host platform's event.
        settings: the ``[channels.push]`` settings; no setting changes which endpoints are valid.
    """
    return tuple(subscription.endpoint for subscription in usable_subscriptions(contact))


def subscription_key(contact: Contact, endpoint: str) -> str | None:
    """The channel's `address_key`: the identity of `contact`'s subscription at `endpoint`, or None.

    A SHA-256 of the endpoint and the decoded keys (so base64 padding does not make another
    subscription); the keys are the browser's, and a new subscription has new ones.
    """
    for subscription in usable_subscriptions(contact):
        if subscription.endpoint == endpoint:
            point = b64url_decode(subscription.keys["p256dh"]) or b""
            secret = b64url_decode(subscription.keys["auth"]) or b""
            digest = hashlib.sha256()
            for part in (endpoint.encode("utf-8"), point, secret):
                digest.update(len(part).to_bytes(4, "big") + part)
            return digest.hexdigest()
    return None
