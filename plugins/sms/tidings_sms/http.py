"""What the two SMS transports share: one request, and how a failed answer is classified.

A failure the provider may get over (a timeout, a refused or dropped connection, 408, 425, 429,
any 5xx) raises `TransientDeliveryError`, which the core retries; it carries the seconds of the
provider's ``Retry-After`` as ``retry_after``. Bad credentials (401, 403) and a broken endpoint raise
`PermanentDeliveryError`, which the core does not retry but answers by trying the next usable
channel. Statuses are read by `tidings.channel_kit.http_failure`, as the push channel reads
them; every other refusal is classified by the provider's own transport.
"""

from __future__ import annotations

from typing import Any

import httpx

from tidings.channel_kit import http_failure
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger

log = get_logger(__name__)

USER_AGENT = "tidings-sms/0.1.0"


def post(client: httpx.Client, url: str, *, to: str, provider: str, **kwargs: Any) -> httpx.Response:
    """POST with `client`, turning network failures into delivery errors (see `request`)."""
    return request(client, "POST", url, to=to, provider=provider, **kwargs)


def request(client: httpx.Client, method: str, url: str, *, to: str, provider: str, **kwargs: Any) -> httpx.Response:
    """Call the provider with `client`, turning network failures into delivery errors.

    Raises:
        TransientDeliveryError: on a timeout or a connection that failed or dropped.
        PermanentDeliveryError: reason ``provider_config`` when the URL itself cannot work.
    """
    try:
        return client.request(method, url, **kwargs)
    except httpx.TimeoutException as e:
        log.info("sms_deferred", provider=provider, to=to, reason="timeout")
        raise TransientDeliveryError(
            f"the {provider} SMS provider did not answer within its timeout ({type(e).__name__})",
            reason="timeout", details={"provider": provider}) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
        raise PermanentDeliveryError(
            f"the {provider} SMS provider's URL {url!r} cannot be used: {e} (check [channels.sms])",
            reason="provider_config", details={"provider": provider}) from None
    except httpx.TransportError as e:
        log.info("sms_deferred", provider=provider, to=to, reason="connection_failed")
        raise TransientDeliveryError(
            f"could not reach the {provider} SMS provider: {type(e).__name__}: {e}",
            reason="connection_failed", details={"provider": provider}) from None


def raise_for_common_failures(response: httpx.Response, *, to: str, provider: str,
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


def json_or_empty(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or ``{}`` when it is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
