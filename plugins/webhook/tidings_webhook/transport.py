"""The webhook transport: ``POST {url}`` with the JSON payload and the three Standard Webhooks headers.

``webhook-id`` is the message's idempotency key, the same on every attempt, so a host that keeps
the ids it processed (as the specification asks) acts on a message once however often it
arrives; ``webhook-timestamp`` is the attempt's own time (real time, even where the pipeline runs
on a virtual clock, since receivers reject a timestamp more than minutes away from theirs), and
``webhook-signature`` signs both with the body (`tidings_webhook.signing`).

The answer (the specification's "delivery success and failure", with the core's reading of HTTP
statuses, `tidings.channel_kit.http_failure`): 2xx is delivered; 408, 425, 429, 5xx, a timeout
and a failed connection are transient, retried no sooner than a ``Retry-After``; redirects are
not followed (``redirected``: the URL is to be updated), 410 is ``endpoint_gone`` (the host
asks for no more), 401 and 403 ``provider_auth`` (the host refused the signature), and any other
4xx ``provider_rejected``, all permanent, so the rule's next channel is tried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from attrs import define

from tidings.channel_kit import HttpFailure, http_failure
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt
from tidings_webhook.payload import body, payload
from tidings_webhook.signing import signature

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_webhook.config import WebhookConfig

log = get_logger(__name__)

USER_AGENT = "tidings-webhook/0.1.0"


def classify(status: int, retry_after: str | None = None) -> HttpFailure:
    """What a webhook answer that is not 2xx means (see the module docstring)."""
    if 300 <= status < 400:
        return HttpFailure(status=status, reason="redirected")
    if status == 410:
        return HttpFailure(status=status, reason="endpoint_gone")
    return http_failure(status, retry_after)


_FIXES = {
    "redirected": ": redirects are not followed; put the address it redirects to in [channels.webhook] url",
    "endpoint_gone": ": the host wants no more of these webhooks",
    "provider_auth": ": check that the host verifies with the secret of [channels.webhook] or $TIDINGS_WEBHOOK_SECRET",
}


@define
class WebhookTransport:
    """POSTs signed webhooks to one URL, reusing one HTTP connection pool until `close`."""

    config: WebhookConfig
    client: httpx.Client
    key: bytes = b""                                      # the HMAC key the secret stands for
    clock: Callable[[], float] = time.time                # the attempt's time, for webhook-timestamp

    @classmethod
    def connect(cls, config: WebhookConfig, *, key: bytes) -> WebhookTransport:
        client = httpx.Client(timeout=config.timeout, follow_redirects=False,
                              headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"})
        return cls(config=config, client=client, key=key)

    def __repr__(self) -> str:
        return f"WebhookTransport(url={self.config.url!r})"   # never the key

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """POST one message; the receipt's id is the host's ``id`` from a JSON answer, if it gives one.

        Raises:
            TransientDeliveryError: ``timeout``, ``connection_failed``, ``provider_unavailable``
                (408, 425, 5xx) and ``rate_limited`` (429), with the ``Retry-After`` seconds.
            PermanentDeliveryError: ``redirected`` (3xx), ``endpoint_gone`` (410), ``provider_auth``
                (401, 403), ``provider_rejected`` (any other 4xx), ``provider_config`` (a URL httpx
                cannot use).
        """
        content = body(payload(message, idempotency_key=idempotency_key, event_type=self.config.event_type))
        timestamp = int(self.clock())
        headers = {"webhook-id": idempotency_key, "webhook-timestamp": str(timestamp),
                   "webhook-signature": signature(self.key, idempotency_key, timestamp, content)}
        fields: dict[str, Any] = {"rule": message.rule, "subject": message.subject, "channel": "webhook",
                                  "to": message.to}
        response = self._post(content, headers, fields)
        if 200 <= response.status_code < 300:
            found = _answer_id(response)
            log.debug("webhook_accepted", **fields, status=response.status_code, provider_id=found)
            return Receipt(provider_id=found, info={"status": response.status_code})
        failure = classify(response.status_code, response.headers.get("Retry-After"))
        details = {"provider": "webhook", "status": response.status_code, "webhook_id": idempotency_key}
        if failure.transient:
            log.info("webhook_deferred", **fields, status=response.status_code, reason=failure.reason,
                     retry_after=failure.retry_after)
            raise failure.error(f"the webhook endpoint answered HTTP {response.status_code}; the message will be "
                                "retried with the same webhook-id", details=details)
        log.warning("webhook_rejected", **fields, status=response.status_code, reason=failure.reason)
        raise failure.error(f"the webhook endpoint refused the message (HTTP {response.status_code})"
                            f"{_FIXES.get(failure.reason, '')}", details=details)

    def _post(self, content: bytes, headers: dict[str, str], fields: dict[str, Any]) -> httpx.Response:
        details = {"provider": "webhook", "webhook_id": headers["webhook-id"]}
        try:
            return self.client.post(self.config.url, content=content, headers=headers)
        except httpx.TimeoutException as e:
            log.info("webhook_deferred", **fields, reason="timeout")
            raise TransientDeliveryError(f"the webhook endpoint did not answer within {self.config.timeout:g} s "
                                         f"({type(e).__name__}); the message will be retried with the same webhook-id",
                                         reason="timeout", details=details) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            raise PermanentDeliveryError(f"the webhook URL cannot be used: {e} (check url in [channels.webhook])",
                                         reason="provider_config", details=details) from None
        except httpx.TransportError as e:
            log.info("webhook_deferred", **fields, reason="connection_failed")
            raise TransientDeliveryError(f"could not reach the webhook endpoint: {type(e).__name__}: {e}",
                                         reason="connection_failed", details=details) from None

    def close(self) -> None:
        """Close the HTTP client and its pooled connections."""
        self.client.close()


def _answer_id(response: httpx.Response) -> str | None:
    """The ``id`` of a JSON object answer (a CRM's task id), if there is one."""
    try:
        data = response.json()
    except ValueError:
        return None
    found = data.get("id") if isinstance(data, dict) else None
    return str(found) if isinstance(found, (str, int)) and not isinstance(found, bool) else None
