"""The recording transport: what ``tidings simulate`` (and a test) puts in place of every real one."""

from __future__ import annotations

from typing import Any

from attrs import define, field

from tidings.clock import Clock
from tidings.plugin_types import Receipt, RenderedMessage


@define
class RecordingTransport:
    """A transport that keeps what it is given instead of delivering it (simulate's, and tests')."""

    channel: str
    clock: Clock | None = None
    sent: list[dict[str, Any]] = field(factory=list)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.sent.append({"message": message, "key": idempotency_key,
                          "at": self.clock.now() if self.clock is not None else None})
        return Receipt(provider_id=f"rec-{len(self.sent)}")

    def close(self) -> None:
        pass
