"""The Cloud API transport: a JSON POST to ``/{version}/{phone_number_id}/messages`` with a bearer token.

The Cloud API takes no idempotency key. Each attempt carries the message's key as
``biz_opaque_callback_data``, which Meta hands back in the message's status webhooks; but a
worker that dies after Meta accepted a message and before tidings recorded it sent leaves the
message to be dispatched again, and Meta delivers that second attempt too (see the README).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from attrs import define, field

from tidings.clock import Clock, SystemClock
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt
from tidings_whatsapp.codes import classify, details_of
from tidings_whatsapp.messages import request

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_whatsapp.config import WhatsAppConfig

log = get_logger(__name__)

USER_AGENT = "tidings-whatsapp/0.1.0"


@define
class WhatsAppTransport:
    """Sends WhatsApp messages through the Cloud API, reusing one HTTP connection pool until `close`.

    Build it with `WhatsAppTransport.connect(config, token=...)`. `clock` tells whether the
    recipient's customer-service window is still open; tests give it a virtual one.
    """

    config: WhatsAppConfig
    client: httpx.Client
    clock: Clock = field(factory=SystemClock)

    @classmethod
    def connect(cls, config: WhatsAppConfig, *, token: str, clock: Clock | None = None) -> WhatsAppTransport:
        """A transport with its own HTTP client, sending ``Authorization: Bearer <token>``."""
        client = httpx.Client(base_url=config.base_url.rstrip("/"), timeout=config.timeout,
                              headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT,
                                       "Accept": "application/json"})
        return cls(config=config, client=client, clock=clock or SystemClock())

    @property
    def path(self) -> str:
        return f"/{self.config.api_version}/{self.config.phone_number_id}/messages"

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Send one message: free text inside the window, else the rule's template; the ``wamid`` is the receipt's id.

        Raises:
            TransientDeliveryError: timeouts, connection failures, 5xx, and Meta's rate limits
                (130429, 131048, 131056, ...), with ``retry_after`` when the answer gave one.
            PermanentDeliveryError: ``no_template`` or ``template_params`` before anything is sent;
                ``provider_auth`` (401, code 190), ``undeliverable`` (131026), ``reengagement_required``
                (131047), ``recipient_not_allowed`` (131030), ``invalid_address`` (131021),
                ``recipient_opted_out`` (131050), ``template_*`` (132xxx) or ``provider_rejected``.
        """
        body, info = request(message, self.config, now=self.clock.now(), idempotency_key=idempotency_key)
        response = self._post(body, message)
        answer = _json_object(response)
        if 200 <= response.status_code < 300:
            messages = answer.get("messages")
            wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) else None
            log.debug("whatsapp_accepted", rule=message.rule, subject=message.subject, channel="whatsapp",
                      to=message.to, provider_id=wamid, **info)
            return Receipt(provider_id=str(wamid) if wamid else None, info=info)
        failure = classify(response.status_code, answer, response.headers.get("Retry-After"))
        details = details_of(response.status_code, answer)
        said = f": {details['message']}" if details.get("message") else ""
        code = f", code {details['code']}" if "code" in details else ""
        if failure.transient:
            log.info("whatsapp_deferred", rule=message.rule, subject=message.subject, channel="whatsapp", to=message.to,
                     status=response.status_code, code=details.get("code"), reason=failure.reason)
            raise failure.error(f"the WhatsApp Cloud API answered HTTP {response.status_code}{code}{said}; "
                                "the message will be retried", details=details)
        log.warning("whatsapp_rejected", rule=message.rule, subject=message.subject, channel="whatsapp", to=message.to,
                    status=response.status_code, code=details.get("code"), reason=failure.reason)
        fix = (": check access_token in [channels.whatsapp] or $TIDINGS_WHATSAPP_ACCESS_TOKEN"
               if failure.reason == "provider_auth" else "")
        raise failure.error(f"the WhatsApp Cloud API refused the message (HTTP {response.status_code}{code}){said}{fix}",
                            details=details)

    def _post(self, body: dict[str, Any], message: RenderedMessage) -> httpx.Response:
        try:
            return self.client.post(self.path, json=body)
        except httpx.TimeoutException as e:
            log.info("whatsapp_deferred", rule=message.rule, subject=message.subject, channel="whatsapp", to=message.to,
                     reason="timeout")
            raise TransientDeliveryError(f"the WhatsApp Cloud API did not answer within {self.config.timeout:g} s "
                                         f"({type(e).__name__})", reason="timeout",
                                         details={"provider": "whatsapp"}) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            raise PermanentDeliveryError(f"the WhatsApp Cloud API URL cannot be used: {e} (check base_url, api_version "
                                         "and phone_number_id in [channels.whatsapp])", reason="provider_config",
                                         details={"provider": "whatsapp"}) from None
        except httpx.TransportError as e:
            log.info("whatsapp_deferred", rule=message.rule, subject=message.subject, channel="whatsapp", to=message.to,
                     reason="connection_failed")
            raise TransientDeliveryError(f"could not reach the WhatsApp Cloud API: {type(e).__name__}: {e}",
                                         reason="connection_failed", details={"provider": "whatsapp"}) from None

    def close(self) -> None:
        """Close the HTTP client and its pooled connections."""
        self.client.close()


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
