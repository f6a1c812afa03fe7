"""The generic JSON transport: a POST whose URL, headers and body mapping come from the config.

For providers without a Twilio-style API. The body is ``[channels.sms].body`` with its
placeholders filled in (``{to}``, ``{sender}``, ``{text}``, ``{idempotency_key}``), and the
idempotency key also travels in the ``Idempotency-Key`` header (``idempotency_header``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt
from tidings_sms.config import PLACEHOLDER
from tidings_sms.http import HttpPool, json_or_empty, post, raise_for_common_failures, request
from tidings_sms.segments import describe

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_sms.config import SmsConfig

log = get_logger(__name__)


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """`template` with every ``{name}`` in its strings replaced by ``values[name]``, at any depth.

    Only the names in `values` are replaced, so other braces pass through untouched.
    """
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    if isinstance(template, Mapping):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, (list, tuple)):
        return [fill(v, values) for v in template]
    return template


def dig(data: Any, path: str) -> Any:
    """The value at a dotted `path` (``"data.id"``, ``"messages.0.id"``) of a JSON answer, or None."""
    for key in path.split(".") if path else ():
        if isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return data


@define
class JsonApiTransport:
    """Sends SMS through a JSON HTTP API, reusing one pool of keep-alive connections until `close`.

    Build it with `JsonApiTransport.connect(config)`.
    """

    config: SmsConfig
    client: HttpPool
    token: str = ""

    @classmethod
    def connect(cls, config: SmsConfig, *, token: str) -> JsonApiTransport:
        """A transport with its own HTTP client; `token` fills ``{auth_token}`` in the headers."""
        client = HttpPool(timeout=config.timeout, headers={"Accept": "application/json"})
        return cls(config=config, client=client, token=token)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Send one SMS; the answer's ``id_field`` is the receipt's ``provider_id``.

        Raises:
            TransientDeliveryError: timeouts, connection failures, 408, 429 and 5xx.
            PermanentDeliveryError: reason ``invalid_address`` (an error code listed in
                ``invalid_address_codes``), ``provider_auth`` (401/403) or ``provider_rejected``.
        """
        config = self.config
        body = fill(config.body, {"to": message.to, "sender": config.sender,
                                  "text": message.parts.get("text", ""), "idempotency_key": idempotency_key})
        headers = self._headers(idempotency_key)
        headers[config.idempotency_header] = idempotency_key
        response = post(self.client, config.url, to=message.to, provider="json", json=body, headers=headers)
        answer = json_or_empty(response)
        if response.status_code in config.success_statuses:
            provider_id = dig(answer, config.id_field)
            log.debug("sms_accepted", provider="json", to=message.to, provider_id=provider_id)
            return Receipt(provider_id=str(provider_id) if provider_id is not None else None, info=dict(describe(message.parts)))
        code = dig(answer, config.error_field)
        details: dict[str, Any] = {"provider": "json", "status": response.status_code}
        if code is not None:
            details["code"] = code
        if not answer and response.text:
            details["message"] = response.text[:200]
        raise_for_common_failures(response, to=message.to, provider="json", details=details)
        reason = "invalid_address" if code is not None and str(code) in config.invalid_address_codes else "provider_rejected"
        log.warning("sms_rejected", provider="json", to=message.to, status=response.status_code, code=code, reason=reason)
        raise PermanentDeliveryError(
            f"the json SMS provider refused the message (HTTP {response.status_code}"
            f"{f', code {code!r}' if code is not None else ''})",
            reason=reason, details=details)

    def _headers(self, idempotency_key: str) -> dict[str, str]:
        """The configured headers, with ``{auth_token}``, ``{account_sid}`` and ``{idempotency_key}`` filled in."""
        return fill(dict(self.config.headers), {"auth_token": self.token, "account_sid": self.config.account_sid,
                                                "idempotency_key": idempotency_key})

    @property
    def find(self) -> Callable[..., Receipt | None] | None:
        """The provider lookup by idempotency key, when ``lookup_url`` is configured (else None)."""
        return self._find if self.config.lookup_url else None

    def _find(self, *, idempotency_key: str) -> Receipt | None:
        """The receipt of the message sent under this key, or None if the provider never got it.

        Raises:
            TransientDeliveryError: the provider could not say (a timeout, 5xx, any answer but 200 or 404).
        """
        config = self.config
        url = fill(config.lookup_url, {"idempotency_key": idempotency_key})
        response = request(self.client, "GET", url, to="", provider="json", headers=self._headers(idempotency_key))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise TransientDeliveryError(f"the json SMS provider's lookup answered HTTP {response.status_code}; "
                                         "whether the message arrived is unknown, so it is retried",
                                         reason="lookup_failed", details={"provider": "json", "status": response.status_code})
        provider_id = dig(json_or_empty(response), config.id_field)
        return Receipt(provider_id=str(provider_id) if provider_id is not None else None, info={"found": True})

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()
