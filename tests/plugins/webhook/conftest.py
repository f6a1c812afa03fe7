"""A real local webhook receiver for the webhook channel's tests, verifying with the ``standardwebhooks`` package.

`Receiver` is what a host's endpoint does on the Standard Webhooks specification's advice: it
verifies every request with the independent ``standardwebhooks`` library (``Webhook(SECRET)
.verify(body, headers)``: the signature, and a ``webhook-timestamp`` within five minutes of now),
answers 401 to one that does not verify, and acts on each ``webhook-id`` once, answering 200
again to a repeat. A test reads what the host acted on (`tasks`), and scripts failures with the
kit's `then`, or with `lose_next_answer`: the host acts on the next request, then its answer is
lost (it hangs past the client's timeout), as when a network drops after the work was done.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from attrs import frozen
from standardwebhooks import Webhook, WebhookVerificationError

from tidings import Contact, RenderedMessage
from tidings.testing import LocalHttpService, Reply, Request

from tidings_webhook.config import WebhookConfig

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@frozen
class Task:
    """What the host acted on: one verified webhook."""

    webhook_id: str
    payload: dict[str, Any]     # as `standardwebhooks` returned it, verified
    headers: dict[str, str]


class Receiver(LocalHttpService):
    """A host's endpoint keeping the Standard Webhooks rules (see the module docstring)."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.webhook = Webhook(secret)
        self.tasks: list[Task] = []
        self.refused: list[str] = []          # why requests did not verify
        self.duplicates = 0                   # requests of a webhook-id already acted on
        self.lose = 0

    def lose_next_answer(self) -> None:
        with self.lock:
            self.lose += 1

    def respond(self, request: Request) -> Reply:
        try:
            verified = self.webhook.verify(request.body, dict(request.headers))
        except WebhookVerificationError as e:
            self.refused.append(str(e))
            return Reply(401, {"error": str(e)})
        webhook_id = request.headers["webhook-id"]
        if any(task.webhook_id == webhook_id for task in self.tasks):
            self.duplicates += 1
        else:
            self.tasks.append(Task(webhook_id=webhook_id, payload=verified, headers=dict(request.headers)))
        if self.lose:
            self.lose -= 1
            return Reply(200, {"id": f"task-{len(self.tasks)}"}, hang=True)
        return Reply(200, {"id": f"task-{len(self.tasks)}"})


@pytest.fixture
def receiver(start_service: Callable[[Receiver], Receiver]) -> Receiver:
    """A running local webhook receiver with `SECRET`."""
    return start_service(Receiver())


@pytest.fixture
def webhook_config(receiver: Receiver) -> WebhookConfig:
    """Settings reaching `receiver`, with a short timeout."""
    return WebhookConfig(url=f"{receiver.url}/hooks/tidings", secret=SECRET, timeout=0.5)


@pytest.fixture
def webhook_message() -> Callable[..., RenderedMessage]:
    """Build a rendered webhook message: ``webhook_message({"title": ..., "text": ...})``."""
    def build(parts: dict[str, str], *, to: str = "s-anna") -> RenderedMessage:
        return RenderedMessage(channel="webhook", to=to, parts=parts, rule="colour-repeat", subject="a-1",
                               recipient=Contact(id="s-anna", name="Anna"), locale="en", addresses=(to,))
    return build
