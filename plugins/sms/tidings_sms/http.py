"""What the two SMS transports share: a pool of keep-alive connections, one request, and how a failed answer is classified.

The HTTP client is the core's `tidings.httppool.HttpPool` on the standard library's `http.client`,
one keep-alive connection per concurrent request, kept in a pool that any number of worker threads
share (measured here, a POST costs about 370 µs of CPU through it, 1,200 µs through httpx); the
WhatsApp and Telegram channels send through it too, and `tidings.channel_kit.call_provider` turns
its network failures into delivery errors for all three.

A failure the provider may get over (a timeout, a refused or dropped connection, 408, 425, 429,
any 5xx) raises `TransientDeliveryError`, which the core retries; it carries the seconds of the
provider's ``Retry-After`` as ``retry_after``. Bad credentials (401, 403) and a broken endpoint raise
`PermanentDeliveryError`, which the core does not retry but answers by trying the next usable
channel. Statuses are read by `tidings.channel_kit.http_failure`, as the push channel reads
them; every other refusal is classified by the provider's own transport.
"""

from __future__ import annotations

from typing import Any

from attrs import define

from tidings import httppool
from tidings.channel_kit import call_provider, http_failure, json_object
from tidings.httppool import InvalidURL, Response
from tidings.logging import get_logger

__all__ = ["HttpPool", "InvalidURL", "Response", "json_or_empty", "post", "raise_for_common_failures", "request"]

log = get_logger(__name__)

USER_AGENT = "tidings-sms/0.1.0"


@define
class HttpPool(httppool.HttpPool):
    """The core's `tidings.httppool.HttpPool`, naming itself ``tidings-sms``."""

    user_agent: str = USER_AGENT


def post(client: HttpPool, url: str, *, to: str, provider: str, **kwargs: Any) -> Response:
    """POST with `client`, turning network failures into delivery errors (see `request`)."""
    return request(client, "POST", url, to=to, provider=provider, **kwargs)


def request(client: HttpPool, method: str, url: str, *, to: str, provider: str, **kwargs: Any) -> Response:
    """Call the provider with `client`, turning network failures into delivery errors.

    Raises:
        TransientDeliveryError: on a timeout or a connection that failed or dropped.
        PermanentDeliveryError: reason ``provider_config`` when the URL itself cannot work.
    """
    return call_provider(client, method, url, provider=provider, event="sms", name=f"the {provider} SMS provider",
                         hint="[channels.sms]", fields={"provider": provider, "to": to}, **kwargs)


def raise_for_common_failures(response: Response, *, to: str, provider: str,
                              details: dict[str, Any]) -> None:
    """Raise for the failures every provider means alike: 401/403, 408/425/429 and 5xx.

    Args:
        response: the provider's answer.
        to: the recipient, for the log only.
        provider: ``"twilio"`` or ``"json"``, for messages.
        details: what the provider said (status, code, message), passed on in the error.
    """
    status = response.status_code
    failure = http_failure(status, response.headers.get("Retry-After"))
    if failure.reason == "provider_auth":
        log.warning("sms_rejected", provider=provider, to=to, status=status, reason=failure.reason)
        raise failure.error(f"the {provider} SMS provider refused our credentials (HTTP {status}): check account_sid "
                            f"and auth_token in [channels.sms] or $TIDINGS_SMS_AUTH_TOKEN", details=details)
    if failure.transient:
        log.info("sms_deferred", provider=provider, to=to, status=status, reason=failure.reason)
        raise failure.error(f"the {provider} SMS provider answered HTTP {status}; the message will be retried",
                            details=details)


def json_or_empty(response: Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not one (`tidings.channel_kit.json_object`)."""
    return json_object(response)
