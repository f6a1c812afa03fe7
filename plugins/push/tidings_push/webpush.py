"""The Web Push transport: one message to every usable subscription of the recipient.

Each subscription gets its own request to its push service (RFC 8030), made by pywebpush's
`WebPusher` on one shared ``requests.Session``:

- the body is the JSON ``{"title", "body", "tag"}`` encrypted for that browser with its
  ``p256dh`` key and ``auth`` secret (RFC 8291, ``Content-Encoding: aes128gcm``); ``tag`` is the
  idempotency key, for the service worker's ``showNotification(title, {body, tag})``;
- ``Authorization: vapid t=<JWT>, k=<public key>`` (RFC 8292) signs the claims ``aud`` (the
  endpoint's origin), ``sub`` (``vapid_subject``) and ``exp`` (twelve hours ahead; one token is
  reused per origin until its last hour);
- ``TTL`` and ``Urgency`` come from the settings, and ``Topic`` is derived from the idempotency
  key, so a retried message replaces the undelivered copy on the push service instead of
  reaching the device twice.

How the answers combine into one result:

======================================  =============================================================
every subscription answered             result
======================================  =============================================================
at least one 200/201/202                `Receipt` with ``info={"delivered": n, "gone": [...]}`` (and
                                        ``"failed"`` for the others: a retry would repeat the message
                                        on the devices that have it)
none delivered, one 429/5xx/timeout     `TransientDeliveryError`, retried by the core;
                                        ``details["gone"]`` lists the gone ones
every one 404/410                       `PermanentDeliveryError` ``reason="subscription_gone"``,
                                        ``details={"gone": [...]}``
otherwise (another 4xx)                 `PermanentDeliveryError` ``reason="provider_rejected"``
======================================  =============================================================

Endpoints reported gone are remembered by the core (with their keys, see
`tidings_push.addresses.subscription_key`), which never hands them to this transport again, records
a ``gone`` delivery-log entry for each and tells `tidings_delivery_recorded`, so the host platform
that owns the subscriptions can remove them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from attrs import define, field, frozen
from http_ece import ECEException  # type: ignore[import-untyped]
from py_vapid import Vapid02, VapidException  # type: ignore[import-untyped]
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]
from tidings.channel_kit import http_failure
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt

from tidings_push.addresses import usable_subscriptions

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec
    from tidings.models import PushSubscription
    from tidings.plugin_types import RenderedMessage

    from tidings_push.config import PushConfig

log = get_logger(__name__)

USER_AGENT = "tidings-push/0.1.0"
# RFC 8291 §4: push services accept 4096 octets of encrypted body; aes128gcm takes 86 of them for
# its header (salt, record size, the sender's key) and 17 per record (padding delimiter, tag)
MAX_PLAINTEXT = 4096 - 86 - 17
TOPIC_LENGTH = 32              # RFC 8030 §5.4: at most 32 characters of the base64url alphabet
TOKEN_LIFETIME = 12 * 3600     # RFC 8292 §2: `exp` at most 24 hours ahead
TOKEN_RENEWAL = 3600           # a token with less than this left is not reused
DELIVERED = frozenset({200, 201, 202})
GONE = frozenset({404, 410})
ELLIPSIS = "…"


def topic(idempotency_key: str) -> str:
    """The ``Topic`` header for a message: 32 base64url characters of the key's SHA-256.

    A push service keeps one undelivered message per topic and subscription, so a retry of the
    same message replaces the first copy rather than adding a second.
    """
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOPIC_LENGTH]


def payload(title: str, body: str, *, tag: str) -> tuple[bytes, bool]:
    """The JSON the service worker receives, shortened to what one push message can carry.

    Returns:
        The UTF-8 JSON ``{"title", "body", "tag"}`` of at most `MAX_PLAINTEXT` octets, and whether
        the body (or, if that was not enough, the title) had to be cut, which ends it with "…".
    """
    def encode(t: str, b: str) -> bytes:
        return json.dumps({"title": t, "body": b, "tag": tag}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    data = encode(title, body)
    if len(data) <= MAX_PLAINTEXT:
        return data, False
    body = _shorten(body, lambda b: len(encode(title, b)))
    if len(encode(title, body)) > MAX_PLAINTEXT:
        title = _shorten(title, lambda t: len(encode(t, body)))
    return encode(title, body), True


def _shorten(text: str, size: Callable[[str], int]) -> str:
    """The longest prefix of `text`, ended with "…", for which `size` stays within `MAX_PLAINTEXT`."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if size(text[:middle] + ELLIPSIS) <= MAX_PLAINTEXT:
            low = middle
        else:
            high = middle - 1
    return text[:low] + ELLIPSIS if low else ""


def origin(endpoint: str) -> str:
    """The ``aud`` claim for `endpoint`: its scheme, host and port, as RFC 8292 §2 asks."""
    url = urlsplit(endpoint)
    return f"{url.scheme}://{url.netloc.rpartition('@')[2]}"


def short(endpoint: str) -> str:
    """`endpoint` for logs: its origin and the end of its path (a full endpoint is a capability)."""
    return f"{origin(endpoint)}/…{endpoint[-8:]}"


@frozen
class Outcome:
    """What one subscription's push service answered."""

    endpoint: str
    kind: str                          # delivered | gone | transient | rejected
    reason: str = ""
    status: int | None = None
    location: str | None = None
    retry_after: float | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoint": self.endpoint, "reason": self.reason}
        if self.status is not None:
            out["status"] = self.status
        return out


@define
class WebPushTransport:
    """Sends Web Push messages, reusing one HTTP session and one VAPID token per origin until `close`.

    Build it with `WebPushTransport.connect(config, key=...)`.
    """

    config: PushConfig
    vapid: Vapid02
    session: requests.Session
    clock: Callable[[], float] = time.time    # the wall clock push services judge `exp` by
    tokens: dict[str, tuple[int, str]] = field(factory=dict)   # origin -> (exp, Authorization)

    @classmethod
    def connect(cls, config: PushConfig, *, key: ec.EllipticCurvePrivateKey) -> WebPushTransport:
        """A transport signing with `key`, with its own HTTP session."""
        # the subject was checked by PushConfig, which also accepts https URLs with a path
        vapid = Vapid02(private_key=key, conf={"no-strict": True})
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return cls(config=config, vapid=vapid, session=session)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Push `message` to every usable subscription of its recipient (those in ``message.addresses``, if given).

        Returns:
            A receipt whose ``provider_id`` is the push service's message URL (``Location``) of the
            first delivery, with ``info`` ``{"delivered": n, "gone": [endpoints]}``, plus
            ``"failed"`` when some other subscription failed and ``"truncated": True`` when the
            text had to be shortened to fit.

        Raises:
            TransientDeliveryError: nothing was delivered and a push service timed out, failed to
                connect, or answered 408, 425, 429 or 5xx.
            PermanentDeliveryError: reason ``subscription_gone`` (every subscription answered 404 or
                410), ``provider_rejected`` (another 4xx) or ``invalid_address`` (no usable
                subscription, or keys that cannot be encrypted for).
        """
        subscriptions = usable_subscriptions(message.recipient)
        if message.addresses:
            # the core names the endpoints still usable: never one reported gone before
            subscriptions = tuple(s for s in subscriptions if s.endpoint in message.addresses)
        if not subscriptions:
            raise PermanentDeliveryError(
                "the recipient has no push subscription with an https endpoint and p256dh and auth keys",
                reason="invalid_address", details={"gone": []})
        data, truncated = payload(message.parts.get("title", ""), message.parts.get("body", ""), tag=idempotency_key)
        headers = {"Urgency": self.config.urgency, "Topic": topic(idempotency_key)}
        outcomes = [self._push(subscription, data, headers) for subscription in subscriptions]
        receipt = _combine(outcomes)
        if truncated:
            receipt = Receipt(provider_id=receipt.provider_id, info={**receipt.info, "truncated": True})
        return receipt

    def close(self) -> None:
        """Close the HTTP session and its pooled connections."""
        self.session.close()

    def authorization(self, endpoint: str) -> str:
        """The ``Authorization`` header for a request to `endpoint`: a VAPID token for its origin."""
        audience = origin(endpoint)
        now = int(self.clock())
        cached = self.tokens.get(audience)
        if cached is not None and cached[0] - now > TOKEN_RENEWAL:
            return cached[1]
        expires = now + TOKEN_LIFETIME
        claims = {"aud": audience, "sub": self.config.vapid_subject, "exp": expires}
        header: str = self.vapid.sign(claims)["Authorization"]
        self.tokens[audience] = (expires, header)
        return header

    def _push(self, subscription: PushSubscription, data: bytes, headers: Mapping[str, str]) -> Outcome:
        endpoint = subscription.endpoint
        info = {"endpoint": endpoint, "keys": dict(subscription.keys)}
        try:
            pusher = WebPusher(info, requests_session=self.session)
            response = pusher.send(data, {**headers, "Authorization": self.authorization(endpoint)},
                                   ttl=self.config.ttl, content_encoding="aes128gcm", timeout=self.config.timeout)
        except (WebPushException, ECEException, VapidException, ValueError) as e:
            # keys that look right but are no point on the curve, or an endpoint origin VAPID
            # cannot name (an IPv6 literal): this subscription can never work
            log.warning("push_rejected", to=short(endpoint), reason="invalid_address", error=str(e))
            return Outcome(endpoint, "rejected", reason="invalid_address")
        except requests.Timeout:
            log.info("push_deferred", to=short(endpoint), reason="timeout")
            return Outcome(endpoint, "transient", reason="timeout")
        except requests.RequestException as e:
            log.info("push_deferred", to=short(endpoint), reason="connection_failed", error=type(e).__name__)
            return Outcome(endpoint, "transient", reason="connection_failed")
        assert isinstance(response, requests.Response)   # not curl mode
        status = response.status_code
        if status in DELIVERED:
            log.info("push_delivered", to=short(endpoint), status=status)
            return Outcome(endpoint, "delivered", status=status, location=response.headers.get("Location"))
        if status in GONE:
            log.info("push_subscription_gone", to=short(endpoint), status=status)
            return Outcome(endpoint, "gone", reason="subscription_gone", status=status)
        failure = http_failure(status, response.headers.get("Retry-After"))
        if failure.transient:
            log.info("push_deferred", to=short(endpoint), status=status, reason=failure.reason)
            return Outcome(endpoint, "transient", reason=failure.reason, status=status, retry_after=failure.retry_after)
        # a push service's 401 and 403 concern this subscription (the key it was made with), so they
        # are a refusal of the message like any other, not the credentials of the whole channel
        log.warning("push_rejected", to=short(endpoint), status=status, reason="provider_rejected",
                    answer=response.text[:200])
        return Outcome(endpoint, "rejected", reason="provider_rejected", status=status)


def _combine(outcomes: Sequence[Outcome]) -> Receipt:
    by_kind: dict[str, list[Outcome]] = {"delivered": [], "gone": [], "transient": [], "rejected": []}
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    delivered, transient, rejected = by_kind["delivered"], by_kind["transient"], by_kind["rejected"]
    gone = [o.endpoint for o in by_kind["gone"]]
    if delivered:
        info: dict[str, Any] = {"delivered": len(delivered), "gone": gone}
        if transient or rejected:
            info["failed"] = [o.summary() for o in transient + rejected]
        return Receipt(provider_id=delivered[0].location, info=info)
    if transient:
        first = transient[0]
        details: dict[str, Any] = {"gone": gone, "failed": [o.summary() for o in transient + rejected]}
        if first.status is not None:
            details["status"] = first.status
        waits = [o.retry_after for o in transient if o.retry_after is not None]
        retry_after = max(waits) if waits else None
        if retry_after is not None:
            details["retry_after"] = retry_after
        what = f"answered HTTP {first.status}" if first.status is not None else f"failed ({first.reason})"
        raise TransientDeliveryError(f"the push service {what}; the message will be retried",
                                     reason=first.reason, details=details, retry_after=retry_after)
    if rejected:
        reason = "invalid_address" if all(o.reason == "invalid_address" for o in rejected) else "provider_rejected"
        statuses = sorted({o.status for o in rejected if o.status is not None})
        said = f" (HTTP {', '.join(map(str, statuses))})" if statuses else " (the subscription keys are not valid)"
        raise PermanentDeliveryError(f"the push service refused the message{said}", reason=reason,
                                     details={"gone": gone, "failed": [o.summary() for o in rejected]})
    raise PermanentDeliveryError(
        f"every push subscription of the recipient is gone ({len(gone)}); the host platform should remove them",
        reason="subscription_gone", details={"gone": gone})
