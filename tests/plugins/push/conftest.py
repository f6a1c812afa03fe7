"""A real local push service for the push channel's tests: the kit's local HTTP service on 127.0.0.1.

`PushService` plays both ends a push message travels between. As a browser, `subscribe()` makes
a subscription the way ``pushManager.subscribe()`` does: a fresh P-256 key pair (``p256dh``), a
16-octet ``auth`` secret, and an endpoint on this service bound to an application server key.
As the push service, it accepts ``POST /push/<id>`` only with a valid VAPID header (RFC 8292: an
ES256 JWT whose signature checks with the ``k`` key, ``aud`` equal to its own origin, ``exp``
in the next 24 hours, a ``sub``, and ``k`` equal to the key the subscription was made with),
then decrypts the ``aes128gcm`` body with the subscription's private key and auth secret
(RFC 8291) and records the plaintext. It answers 201 with a ``Location``, unless told to answer
otherwise for one subscription (`answer`) or to hang until the test ends (`hang`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import http_ece
import pytest
import tidings_push.plugin
from attrs import frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from py_vapid import Vapid
from tidings import Contact, PushSubscription, RenderedMessage, registry_for
from tidings.plugin_types import Channel, Transport
from tidings.testing import LocalHttpService, Reply, Request
from tidings_push.config import PushConfig

MAX_BODY = 4096            # RFC 8291 §4: what a push service must accept, and all this one does
SUBJECT = "mailto:ops@salon.example"
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class VapidRefused(Exception):
    """Raised by `verify_vapid` with the reason a push service would give for a 401."""


def verify_vapid(header: str | None, *, audience: str, now: float) -> tuple[dict[str, Any], str]:
    """Check an ``Authorization: vapid t=<jwt>, k=<key>`` header as a push service does.

    Returns:
        The JWT's claims and the ``k`` public key (base64url).

    Raises:
        VapidRefused: naming what is wrong: the scheme, a missing part, the signature, ``aud``,
            ``exp`` or ``sub``.
    """
    if not header:
        raise VapidRefused("no Authorization header")
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidRefused(f"scheme {scheme!r} is not vapid")
    params = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    token, key = params.get("t", ""), params.get("k", "")
    if not token or not key:
        raise VapidRefused("t= or k= is missing")
    pieces = token.split(".")
    if len(pieces) != 3:
        raise VapidRefused("t is not a JWT")
    try:
        jwt_header = json.loads(unb64url(pieces[0]))
        claims = json.loads(unb64url(pieces[1]))
        signature = unb64url(pieces[2])
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except ValueError as e:
        raise VapidRefused(f"malformed token or key: {e}") from None
    if jwt_header.get("alg") != "ES256" or len(signature) != 64:
        raise VapidRefused("the token is not ES256")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        public.verify(encode_dss_signature(r, s), f"{pieces[0]}.{pieces[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidRefused("the signature does not match k") from None
    if claims.get("aud") != audience:
        raise VapidRefused(f"aud {claims.get('aud')!r} is not {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        raise VapidRefused(f"exp {exp!r} is not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise VapidRefused(f"sub {claims.get('sub')!r} is not a mailto: or https: URI")
    return claims, key


@frozen
class Browser:
    """One subscription as the browser holds it: the private half of p256dh and the auth secret."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    server_key: str | None                # the applicationServerKey it subscribed with

    @property
    def subscription(self) -> PushSubscription:
        """What the browser hands the host platform (``PushSubscription.toJSON()``)."""
        return PushSubscription(endpoint=self.endpoint,
                                keys={"p256dh": b64url(public_point(self.private_key)), "auth": b64url(self.auth)})


@frozen
class Received:
    """One push message the service accepted, decrypted."""

    browser: str
    headers: Mapping[str, str]            # lower-cased names
    claims: Mapping[str, Any]
    message: Any                          # the decrypted JSON
    connection: tuple[str, int]


class PushService(LocalHttpService):
    """A push service on an ephemeral port of 127.0.0.1 (the kit's local HTTP service); see the module docstring."""

    Refused: ClassVar[type[VapidRefused]] = VapidRefused

    def __init__(self) -> None:
        super().__init__()
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.refused: list[tuple[int, str]] = []   # (status, why) of every request not accepted
        self.answers: dict[str, Reply] = {}
        self.hanging: set[str] = set()

    def verify(self, header: str | None, *, now: float) -> dict[str, Any]:
        """The claims of a VAPID header, checked as this service checks every request (see `verify_vapid`)."""
        return verify_vapid(header, audience=self.url, now=now)[0]

    @staticmethod
    def key_of(vapid: Vapid) -> str:
        """The applicationServerKey of a VAPID key pair: its public point, base64url."""
        return b64url(public_point(vapid.private_key))

    def subscribe(self, *, server_key: str | None) -> Browser:
        """A new subscription bound to `server_key` (None: any VAPID key is accepted)."""
        browser_id = secrets.token_urlsafe(12)
        browser = Browser(id=browser_id, endpoint=f"{self.url}/push/{browser_id}",
                          private_key=ec.generate_private_key(ec.SECP256R1()), auth=secrets.token_bytes(16),
                          server_key=server_key)
        self.browsers[browser_id] = browser
        return browser

    def answer(self, browser: Browser, status: int, headers: Mapping[str, str] | None = None) -> None:
        """Answer every request for `browser` with `status` from now on (410: unsubscribed)."""
        self.answers[browser.id] = Reply(status, headers=dict(headers or {}))

    def hang(self, browser: Browser) -> None:
        """Never answer a request for `browser` (until the test ends)."""
        self.hanging.add(browser.id)

    def messages(self, browser: Browser) -> list[Any]:
        return [r.message for r in self.received if r.browser == browser.id]

    def respond(self, request: Request) -> Reply:
        path, headers, body = request.path, request.headers, request.body
        browser_id = path.removeprefix("/push/")
        browser = self.browsers.get(browser_id) if path.startswith("/push/") and request.method == "POST" else None
        if browser is None:
            return self._refuse(404, f"no subscription at {path!r}")
        if browser_id in self.hanging:
            return self._refuse(503, "hung", hang=True)
        if browser_id in self.answers:
            return self._refuse(self.answers[browser_id].status, "told to", self.answers[browser_id].headers)
        try:
            claims, key = verify_vapid(headers.get("authorization"), audience=self.url, now=time.time())
        except VapidRefused as e:
            return self._refuse(401, str(e))
        if browser.server_key is not None and key != browser.server_key:
            return self._refuse(403, "the VAPID key is not the one the subscription was made with")
        if not headers.get("ttl", "").isdigit():
            return self._refuse(400, "TTL is missing")
        if "topic" in headers and not _TOPIC.fullmatch(headers["topic"]):
            return self._refuse(400, f"Topic {headers['topic']!r} is not 1-32 base64url characters")
        if headers.get("content-encoding") != "aes128gcm":
            return self._refuse(400, f"Content-Encoding {headers.get('content-encoding')!r} is not aes128gcm")
        if len(body) > MAX_BODY:
            return self._refuse(413, f"{len(body)} octets is more than {MAX_BODY}")
        try:
            plaintext = http_ece.decrypt(body, private_key=browser.private_key, auth_secret=browser.auth,
                                         version="aes128gcm")
            message = json.loads(plaintext)
        except (http_ece.ECEException, ValueError) as e:
            return self._refuse(400, f"cannot decrypt: {e}")
        self.received.append(Received(browser=browser_id, headers=headers, claims=claims, message=message,
                                      connection=request.connection))
        return Reply(201, headers={"Location": f"{self.url}/message/{len(self.received)}"})

    def _refuse(self, status: int, why: str, headers: Mapping[str, str] | None = None, *, hang: bool = False) -> Reply:
        self.refused.append((status, why))
        return Reply(status, headers=dict(headers or {}), hang=hang)


@pytest.fixture
def push_service(start_service: Callable[[PushService], PushService]) -> PushService:
    """A running local push service; fails the test under CI=true when it cannot start, else skips."""
    return start_service(PushService())


@pytest.fixture
def vapid() -> Vapid:
    """A fresh VAPID key pair, as ``vapid --gen`` makes it."""
    keys = Vapid()
    keys.generate_keys()
    return keys


@pytest.fixture
def vapid_pem(vapid: Vapid) -> str:
    return vapid.private_pem().decode("ascii")


@pytest.fixture
def server_key(vapid: Vapid) -> str:
    """The applicationServerKey a page passes to ``pushManager.subscribe()``."""
    return PushService.key_of(vapid)


@pytest.fixture
def push_config(vapid_pem: str) -> PushConfig:
    """Settings signing with `vapid`, with a short timeout for the hang test."""
    return PushConfig(vapid_private_key=vapid_pem, vapid_subject=SUBJECT, ttl=3600, urgency="high", timeout=0.5)


@pytest.fixture
def push_channel() -> Channel:
    """The push channel, as the core sees it after registration."""
    return registry_for(tidings_push.plugin).channels["push"]


@pytest.fixture
def transport(push_channel: Channel, push_config: PushConfig,
              connect_transport: Callable[[Channel, PushConfig], Transport]) -> Transport:
    """The channel's real transport for `push_config`, closed afterwards."""
    return connect_transport(push_channel, push_config)


@pytest.fixture
def push_message() -> Callable[..., RenderedMessage]:
    """Build a rendered push message to `browsers`: ``push_message(browser, title="Hi", body="...")``."""
    def build(*browsers: Browser | PushSubscription, title: str = "Visit reminder",
              body: str = "See you tomorrow at 14:00 at Old Town.") -> RenderedMessage:
        subscriptions = tuple(b.subscription if isinstance(b, Browser) else b for b in browsers)
        to = subscriptions[0].endpoint if subscriptions else ""
        return RenderedMessage(channel="push", to=to, parts={"title": title, "body": body}, rule="reminder-24h",
                               subject="apt-1", recipient=Contact(id="c-1", push=subscriptions), locale="pl")
    return build
