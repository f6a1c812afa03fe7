"""The Cloud API transport: a JSON POST to ``/{version}/{phone_number_id}/messages`` with a bearer token.

The Cloud API takes no idempotency key. Each attempt carries the message's key as
``biz_opaque_callback_data``, which Meta hands back in the message's status webhooks; but a
worker that dies after Meta accepted a message and before tidings recorded it sent leaves the
message to be dispatched again, and Meta delivers that second attempt too (see the README).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define, field

from tidings.channel_kit import call_provider, json_object, refusal
from tidings.clock import Clock, SystemClock
from tidings.httppool import HttpPool, Response
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
    """Sends WhatsApp messages through the Cloud API, over a pool of keep-alive connections until `close`.

    Build it with `WhatsAppTransport.connect(config, token=...)`. `clock` tells whether the
    recipient's customer-service window is still open; tests give it a virtual one.
    """

    config: WhatsAppConfig
    client: HttpPool
    clock: Clock = field(factory=SystemClock)

    @classmethod
    def connect(cls, config: WhatsAppConfig, *, token: str, clock: Clock | None = None) -> WhatsAppTransport:
        """A transport with its own connection pool (`tidings.httppool`), sending ``Authorization: Bearer <token>``."""
        client = HttpPool(timeout=config.timeout, base_url=config.base_url.rstrip("/"), user_agent=USER_AGENT,
                          headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
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
        fields = {"rule": message.rule, "subject": message.subject, "channel": "whatsapp", "to": message.to}
        response = call_provider(self.client, "POST", self.path, json=body, provider="whatsapp",
                                 name="the WhatsApp Cloud API", fields=fields,
                                 hint="base_url, api_version and phone_number_id in [channels.whatsapp]")
        answer = json_object(response)
        if 200 <= response.status_code < 300:
            messages = answer.get("messages")
            wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(messages[0], dict) else None
            log.debug("whatsapp_accepted", **fields, provider_id=wamid, **info)
            return Receipt(provider_id=str(wamid) if wamid else None, info=info)
        raise self._refusal(response, answer, fields)

    @staticmethod
    def _refusal(response: Response, answer: dict[str, Any], fields: dict[str, Any]) -> Exception:
        failure = classify(response.status_code, answer, response.headers.get("Retry-After"))
        details = details_of(response.status_code, answer)
        return refusal(failure, provider="whatsapp", name="the WhatsApp Cloud API", fields=fields, details=details,
                       said=f": {details['message']}" if details.get("message") else "",
                       code=f", code {details['code']}" if "code" in details else "",
                       fix="access_token in [channels.whatsapp] or $TIDINGS_WHATSAPP_ACCESS_TOKEN",
                       logged={"code": details.get("code")})

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()
