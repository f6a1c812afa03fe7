"""The webhook channel: POST each rendered message as JSON to a configured URL."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

from attrs import define, frozen

from tidings import Channel, Contact, PermanentDeliveryError, Receipt, RenderedMessage, TransientDeliveryError, hookimpl


@frozen
class WebhookConfig:
    """The ``[channels.webhook]`` table."""

    url: str = "http://127.0.0.1:8080/"
    timeout: float = 5.0


def addresses(contact: Contact, settings: WebhookConfig) -> tuple[str, ...]:
    return (f"webhook:{contact.id}",) if contact.id else ()


@define
class WebhookTransport:
    settings: WebhookConfig

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        body = json.dumps({"to": message.to, "rule": message.rule, "subject": message.subject,
                           "parts": dict(message.parts)}).encode()
        request = urllib.request.Request(self.settings.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as response:
                return Receipt(provider_id=response.headers.get("X-Request-Id"))
        except urllib.error.HTTPError as e:
            e.close()   # the error holds the answer's connection open
            if e.code == 429 or e.code >= 500:
                raise TransientDeliveryError(f"webhook answered {e.code}") from None
            raise PermanentDeliveryError(f"webhook answered {e.code}", reason="provider_rejected") from None
        except OSError as e:
            raise TransientDeliveryError(f"webhook unreachable: {e}") from None

    def close(self) -> None:
        pass


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="webhook", summary="POST each message as JSON to a URL", parts=("text",),
                  config_type=WebhookConfig, addresses=addresses, connect=WebhookTransport)
