"""The real pipeline with the real SMS and e-mail transports against real local peers (PRODUCT §6–§7).

A Twilio-style HTTP provider and an aiosmtpd server run on 127.0.0.1; the dispatch actor runs on
Dramatiq's stub broker in a real worker thread. Nothing of the transports is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from email import message_from_bytes, policy
from typing import Any

import pytest

from tidings.clock import VirtualClock
from tidings.config import parse_config
from tidings.pipeline import Pipeline, connect_transports
from tidings.testing import LocalHttpService, Reply, Request, SmtpServer, StubPipeline

SID = "AC" + "0" * 32
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Provider(LocalHttpService):
    """A Twilio-style Messages API: answers as scripted (`then`), else 201 with a sid."""

    def respond(self, request: Request) -> Reply:
        return Reply(201, {"sid": f"SM{len(self.requests)}"})


@pytest.fixture
def provider(start_service: Callable[[Provider], Provider]) -> Provider:
    return start_service(Provider())


@pytest.fixture
def smtputf8() -> bool:
    """Whether the SMTP server offers SMTPUTF8 (a test overrides it with parametrize)."""
    return True


@pytest.fixture
def channel() -> str:
    """The rule's channel policy (a test overrides it with parametrize)."""
    return "prefer_sms"


@pytest.fixture
def mailbox(start_smtp_server: Callable[..., SmtpServer], smtputf8: bool) -> SmtpServer:
    return start_smtp_server(smtputf8=smtputf8)


@pytest.fixture
def pipeline(provider: Provider, mailbox: SmtpServer, channel: str,
             start_pipeline: Callable[..., StubPipeline]) -> Pipeline:
    config = parse_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms", "email"], "triggers": ["status-change"]},
        "channels": {"sms": {"provider": "twilio", "base_url": provider.url, "account_sid": SID, "auth_token": "t0ken",
                             "sender": "+48600000000", "default_region": "PL", "timeout": 5.0},
                     "email": {"host": "127.0.0.1", "port": mailbox.port, "sender": "Salon <hello@salon.example>", "timeout": 5.0}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": channel, "template": "t"}],
        "templates": {"t": {"sms": "Hi {{ client.name }}, see you {{ subject.start | datetime }}",
                            "email": {"subject": "Your visit", "text": "Hi {{ client.name }}, see you {{ subject.start | datetime }}"}}},
    })
    return start_pipeline(config, transports=connect_transports(config), clock=VirtualClock(NOW)).pipeline


def publish_and_run(pipeline: Any, *, email: str = "ola@example.com", name: str = "Ola Nowak") -> None:
    pipeline.publish({"id": "evt-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
                      "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                                  "client": {"id": "c-1", "name": name, "phone": "600 100 200", "email": email,
                                             "consents": {"sms": True, "email": True}}}})
    pipeline.broker.join(pipeline.queue, fail_fast=True)
    pipeline.enqueue_due()
    pipeline.broker.join(pipeline.queue, fail_fast=True)


def log(pipeline: Any) -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in pipeline.store.log(subject="a-1")
            if e["status"] != "scheduled"]


def test_a_number_the_provider_rejects_for_good_gets_the_message_by_email(
        pipeline: Any, provider: Provider, mailbox: SmtpServer) -> None:
    provider.then(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})
    publish_and_run(pipeline)
    assert len(provider.requests) == 1 and provider.requests[0].form["To"] == "+48600100200"
    [received] = mailbox.handler.received
    message = message_from_bytes(received.data, policy=policy.default)
    assert list(received.rcpt_tos) == ["ola@example.com"] and message["Subject"] == "Your visit"
    assert message.get_content().strip() == "Hi Ola Nowak, see you Mar 10, 2026, 2:00 PM"
    assert log(pipeline) == [("failed", "sms", "invalid_address"), ("sent", "email", None)]


def test_a_provider_that_answers_503_twice_then_201_delivers_once(
        pipeline: Any, provider: Provider, mailbox: SmtpServer) -> None:
    provider.then(503, {"message": "busy"})
    provider.then(503, {"message": "busy"})
    publish_and_run(pipeline)
    assert len(provider.requests) == 3
    keys = {request.headers["i-twilio-idempotency-token"] for request in provider.requests}
    assert len(keys) == 1                          # the same message each time, under one idempotency key
    assert [request.form["Body"] for request in provider.requests] == ["Hi Ola Nowak, see you Mar 10, 2026, 2:00 PM"] * 3
    assert mailbox.handler.received == []          # a transient failure is retried, not handed to the next channel
    assert log(pipeline) == [("sent", "sms", None)]
    [sent] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["provider_id"] == "SM3" and sent["info"]["segments"] == 1


@pytest.mark.parametrize(("channel", "smtputf8"), [("prefer_email", False)])
def test_a_mailbox_the_server_cannot_take_gets_the_message_by_sms(
        pipeline: Any, provider: Provider, mailbox: SmtpServer) -> None:
    # Given a server without SMTPUTF8 and a client whose mailbox is not ASCII
    # When a prefer_email message falls due
    publish_and_run(pipeline, email="łucja@example.pl", name="Łucja Nowak")

    # Then e-mail fails for good as invalid_address, recorded, and the message goes by SMS, once
    assert mailbox.handler.received == []
    assert [request.form["To"] for request in provider.requests] == ["+48600100200"]
    assert log(pipeline) == [("failed", "email", "invalid_address"), ("sent", "sms", None)]
    [failed] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert failed["to"] == "łucja@example.pl" and "SMTPUTF8" in failed["error"]
    assert pipeline.store.count_pending() == 0


@pytest.mark.parametrize(("channel", "smtputf8"), [("prefer_email", True)])
def test_a_non_ascii_mailbox_is_delivered_by_a_server_that_offers_smtputf8(
        pipeline: Any, provider: Provider, mailbox: SmtpServer) -> None:
    publish_and_run(pipeline, email="łucja@example.pl", name="Łucja Nowak")

    [received] = mailbox.handler.received
    assert list(received.rcpt_tos) == ["łucja@example.pl"]
    message = message_from_bytes(received.data, policy=policy.default)
    assert message["To"].addresses[0].display_name == "Łucja Nowak"
    assert provider.requests == []
    assert log(pipeline) == [("sent", "email", None)]


def test_a_number_refused_for_good_is_not_posted_again_while_email_is_retried(
        pipeline: Any, provider: Provider, mailbox: SmtpServer) -> None:
    # Given a provider that rejects the number for good, and a mail server that defers the message twice
    provider.then(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})
    mailbox.handler.then("451 4.3.0 try again later")
    mailbox.handler.then("451 4.3.0 try again later")

    # When the message falls due and e-mail is retried until the server takes it
    publish_and_run(pipeline)

    # Then the SMS provider was asked once, the e-mail arrived once, and the log holds one refusal
    assert len(provider.requests) == 1
    assert len(mailbox.handler.received) == 1
    assert log(pipeline) == [("failed", "sms", "invalid_address"), ("sent", "email", None)]
    assert pipeline.store.count_pending() == 0
