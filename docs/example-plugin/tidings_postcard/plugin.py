"""The postcard channel: each rendered message POSTed as a JSON postcard to a printing service's URL."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

from attrs import define, frozen

from tidings import Channel, Contact, PermanentDeliveryError, Receipt, RenderedMessage, TransientDeliveryError, hookimpl


@frozen
class PostcardConfig:
    """The ``[channels.postcard]`` table."""

    url: str = "http://127.0.0.1:8080/"
    timeout: float = 5.0


def addresses(contact: Contact, settings: PostcardConfig) -> tuple[str, ...]:
    return (f"postcard:{contact.id}",) if contact.id else ()


@define
class PostcardTransport:
    settings: PostcardConfig

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
                raise TransientDeliveryError(f"the postcard service answered {e.code}") from None
            raise PermanentDeliveryError(f"the postcard service answered {e.code}", reason="provider_rejected") from None
        except OSError as e:
            raise TransientDeliveryError(f"the postcard service is unreachable: {e}") from None

    def close(self) -> None:
        pass


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="postcard", summary="POST each message as a JSON postcard to a URL", parts=("text",),
                  config_type=PostcardConfig, addresses=addresses, connect=PostcardTransport)
