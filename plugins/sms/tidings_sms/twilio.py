"""The Twilio-style transport: a form-encoded POST to the Messages resource, with basic auth.

Works with Twilio and with the providers that copy its API. The idempotency key goes in the
``I-Twilio-Idempotency-Token`` header, so a retried attempt does not become a second SMS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.errors import PermanentDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt
from tidings_sms.http import HttpPool, json_or_empty, post, raise_for_common_failures
from tidings_sms.segments import describe

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_sms.config import SmsConfig

log = get_logger(__name__)

API_VERSION = "2010-04-01"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
# Twilio error codes meaning the number itself will never take an SMS
INVALID_ADDRESS_CODES = frozenset({
    21211,  # invalid 'To' phone number
    21214,  # 'To' phone number cannot be reached
    21217,  # phone number does not appear to be valid
    21401,  # invalid phone number
    21407,  # this phone number type does not support SMS
    21421,  # phone number is invalid
    21612,  # 'To' phone number is not currently reachable via SMS
    21614,  # 'To' number is not a valid mobile number
})
OPTED_OUT_CODES = frozenset({21610})   # the recipient replied STOP


@define
class TwilioTransport:
    """Sends SMS through a Twilio-style API, reusing one pool of keep-alive connections until `close`.

    Build it with `TwilioTransport.connect(config)`.
    """

    config: SmsConfig
    client: HttpPool

    @classmethod
    def connect(cls, config: SmsConfig, *, token: str) -> TwilioTransport:
        """A transport with its own HTTP client, authenticated as ``(account_sid, token)``."""
        client = HttpPool(timeout=config.timeout, headers={"Accept": "application/json"}, base_url=config.base_url,
                          auth=(config.account_sid, token))
        return cls(config=config, client=client)

    @property
    def path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.config.account_sid}/Messages.json"

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Send one SMS; the provider's message SID is the receipt's ``provider_id``.

        Raises:
            TransientDeliveryError: timeouts, connection failures, 429 and 5xx.
            PermanentDeliveryError: reason ``invalid_address`` (the number), ``recipient_opted_out``
                (code 21610), ``provider_auth`` (401/403) or ``provider_rejected`` (any other refusal).
        """
        text = message.parts.get("text", "")
        form = {"To": message.to, "Body": text}
        if self.config.messaging_service_sid:
            form["MessagingServiceSid"] = self.config.messaging_service_sid
        else:
            form["From"] = self.config.sender
        response = post(self.client, self.path, to=message.to, provider="twilio", data=form,
                        headers={IDEMPOTENCY_HEADER: idempotency_key})
        answer = json_or_empty(response)
        if response.status_code in (200, 201):
            info: dict[str, Any] = dict(describe(message.parts))
            if str(answer.get("num_segments", "")).isdigit():
                info["provider_segments"] = int(answer["num_segments"])
            sid = answer.get("sid")
            log.debug("sms_accepted", provider="twilio", to=message.to, provider_id=sid)
            return Receipt(provider_id=str(sid) if sid else None, info=info)
        details = {"provider": "twilio", "status": response.status_code,
                   **{k: answer[k] for k in ("code", "message", "more_info") if k in answer}}
        raise_for_common_failures(response, to=message.to, provider="twilio", details=details)
        code = _code(answer.get("code"))
        if code in INVALID_ADDRESS_CODES:
            reason = "invalid_address"
        elif code in OPTED_OUT_CODES:
            reason = "recipient_opted_out"
        else:
            reason = "provider_rejected"
        log.warning("sms_rejected", provider="twilio", to=message.to, status=response.status_code, code=code, reason=reason)
        said = f": {answer['message']}" if answer.get("message") else ""
        raise PermanentDeliveryError(
            f"the twilio SMS provider refused the message (HTTP {response.status_code}, code {code}){said}",
            reason=reason, details=details)

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()


def _code(value: Any) -> int | None:
    # Twilio sends an integer; some look-alike providers send it as a string
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
