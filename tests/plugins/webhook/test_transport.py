"""The webhook transport against a local receiver that verifies with standardwebhooks: the request, and each answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import pytest

from tidings import RenderedMessage
from tidings.errors import PermanentDeliveryError, TransientDeliveryError

from tidings_webhook.config import WebhookConfig
from tidings_webhook.signing import secret_key
from tidings_webhook.transport import WebhookTransport, classify

from .conftest import SECRET, Receiver

Build = Callable[..., RenderedMessage]
KEY = "4f" * 20


@pytest.fixture
def transport(webhook_config: WebhookConfig) -> Iterator[WebhookTransport]:
    sender = WebhookTransport.connect(webhook_config, key=secret_key(SECRET))
    yield sender
    sender.close()


def test_a_message_arrives_signed_with_its_key_as_webhook_id(
        transport: WebhookTransport, receiver: Receiver, webhook_message: Build) -> None:
    receipt = transport.send(webhook_message({"title": "Call Ola", "text": "Ola Nowak is due for colouring."}),
                             idempotency_key=KEY)
    [task] = receiver.tasks            # verified by standardwebhooks, timestamp within 5 minutes
    assert receiver.refused == [] and task.webhook_id == KEY
    assert receiver.requests[0].path == "/hooks/tidings" and receiver.requests[0].method == "POST"
    assert task.headers["content-type"] == "application/json"
    assert task.payload["type"] == "tidings.message"
    data = task.payload["data"]
    assert data["idempotency_key"] == KEY and data["parts"] == {"title": "Call Ola", "text": "Ola Nowak is due for colouring."}
    assert (data["rule"], data["subject"]) == ({"id": "colour-repeat"}, {"id": "a-1"})
    assert data["recipient"] == {"role": None, "id": "s-anna", "name": "Anna", "phone": None, "email": None,
                                 "locale": None, "address": "s-anna"}
    assert receipt.provider_id == "task-1"


def test_the_event_type_follows_the_settings_and_non_ascii_text_is_signed_as_sent(
        webhook_config: WebhookConfig, receiver: Receiver, webhook_message: Build) -> None:
    sender = WebhookTransport.connect(attrs.evolve(webhook_config, event_type="salon.task"), key=secret_key(SECRET))
    try:
        sender.send(webhook_message({"title": "Zadzwoń", "text": "Koloryzacja: Zażółć gęślą jaźń"}), idempotency_key=KEY)
    finally:
        sender.close()
    [task] = receiver.tasks
    assert task.payload["type"] == "salon.task" and task.payload["data"]["parts"]["text"].endswith("gęślą jaźń")
    assert "Zażółć".encode() in receiver.requests[0].body     # UTF-8 as it is, not \u escapes


def test_messages_share_one_connection(transport: WebhookTransport, receiver: Receiver, webhook_message: Build) -> None:
    for n in range(3):
        transport.send(webhook_message({"title": "T", "text": f"Task {n}"}), idempotency_key=f"{n}" * 40)
    assert len(receiver.tasks) == 3 and len(receiver.connections()) == 1


def test_a_wrong_secret_is_refused_by_the_host_as_provider_auth(
        webhook_config: WebhookConfig, receiver: Receiver, webhook_message: Build) -> None:
    sender = WebhookTransport.connect(webhook_config, key=b"another key of twenty-four bytes")
    try:
        with pytest.raises(PermanentDeliveryError) as refused:
            sender.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    finally:
        sender.close()
    assert refused.value.reason == "provider_auth" and "$TIDINGS_WEBHOOK_SECRET" in str(refused.value)
    assert receiver.refused == ["No matching signature found"] and receiver.tasks == []
    assert refused.value.details == {"provider": "webhook", "status": 401, "webhook_id": KEY}


@pytest.mark.parametrize(("status", "reason"), [(410, "endpoint_gone"), (422, "provider_rejected"),
                                                (404, "provider_rejected"), (403, "provider_auth")])
def test_a_refusal_is_permanent_with_its_reason(
        transport: WebhookTransport, receiver: Receiver, webhook_message: Build, status: int, reason: str) -> None:
    receiver.then(status, {"error": "no"})
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    assert refused.value.reason == reason and refused.value.details["status"] == status


def test_a_redirect_is_not_followed(transport: WebhookTransport, receiver: Receiver, webhook_message: Build) -> None:
    receiver.then(308, headers={"Location": f"{receiver.url}/elsewhere"})
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    assert refused.value.reason == "redirected" and "url" in str(refused.value)
    assert [r.path for r in receiver.requests] == ["/hooks/tidings"]


@pytest.mark.parametrize(("status", "reason"), [(503, "provider_unavailable"), (502, "provider_unavailable"),
                                                (408, "provider_unavailable"), (429, "rate_limited")])
def test_a_passing_failure_is_transient_with_the_hosts_retry_after(
        transport: WebhookTransport, receiver: Receiver, webhook_message: Build, status: int, reason: str) -> None:
    receiver.then(status, headers={"Retry-After": "7"})
    with pytest.raises(TransientDeliveryError) as deferred:
        transport.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    assert deferred.value.reason == reason and deferred.value.retry_after == 7.0
    assert receiver.tasks == []


def test_a_hang_and_a_closed_port_are_transient(
        transport: WebhookTransport, webhook_config: WebhookConfig, receiver: Receiver, webhook_message: Build) -> None:
    receiver.then(200, hang=True)   # longer than the 0.5 s timeout
    with pytest.raises(TransientDeliveryError) as hung:
        transport.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    assert hung.value.reason == "timeout"
    closed = WebhookTransport.connect(attrs.evolve(webhook_config, url="http://127.0.0.1:9/hooks"), key=secret_key(SECRET))
    try:
        with pytest.raises(TransientDeliveryError) as refused:
            closed.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    finally:
        closed.close()
    assert refused.value.reason == "connection_failed"


def test_each_attempt_is_signed_at_its_own_time_under_the_same_webhook_id(
        webhook_config: WebhookConfig, receiver: Receiver, webhook_message: Build) -> None:
    import time

    moments = iter([time.time() - 60, time.time()])
    sender = WebhookTransport.connect(webhook_config, key=secret_key(SECRET))
    sender.clock = lambda: next(moments)
    try:
        receiver.then(503)
        with pytest.raises(TransientDeliveryError):
            sender.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
        sender.send(webhook_message({"title": "T", "text": "x"}), idempotency_key=KEY)
    finally:
        sender.close()
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == KEY
    assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 60
    assert first.body == second.body and first.headers["webhook-signature"] != second.headers["webhook-signature"]
    assert [t.webhook_id for t in receiver.tasks] == [KEY]


def test_the_classification_of_statuses() -> None:
    assert classify(301).reason == "redirected" and not classify(301).transient
    assert classify(500, "3").retry_after == 3.0 and classify(500).transient
    assert classify(400).reason == "provider_rejected"
