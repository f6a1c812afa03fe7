"""The real pipeline with the real SMS and e-mail transports against real local peers (PRODUCT §6–§7).

A Twilio-style HTTP provider and an aiosmtpd server run on 127.0.0.1; the dispatch actor runs on
Dramatiq's stub broker in a real worker thread. Nothing of the transports is mocked.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiosmtpd.controller import Controller

from tidings.clock import VirtualClock
from tidings.config import parse_config
from tidings.pipeline import build_pipeline, connect_transports
from tidings.store.memory import MemoryStore

SID = "AC" + "0" * 32
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Provider:
    """A Twilio-style Messages API: answers from a script (status, body), then 201 with a sid."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []   # (headers, form)
        self.script: deque[tuple[int, dict[str, Any]]] = deque()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                provider.requests.append(({k.lower(): v for k, v in self.headers.items()}, form))
                status, body = provider.script.popleft() if provider.script else (201, {"sid": f"SM{len(provider.requests)}"})
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


class _Ephemeral(Controller):
    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def provider() -> Iterator[Provider]:
    server = Provider()
    yield server
    server.stop()


@pytest.fixture
def smtputf8() -> bool:
    """Whether the SMTP server offers SMTPUTF8 (a test overrides it with parametrize)."""
    return True


@pytest.fixture
def channel() -> str:
    """The rule's channel policy (a test overrides it with parametrize)."""
    return "prefer_sms"


@pytest.fixture
def mailbox(smtputf8: bool) -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = _Ephemeral(box, hostname="127.0.0.1", port=0, ready_timeout=5.0, enable_SMTPUTF8=smtputf8)
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def pipeline(provider: Provider, mailbox: tuple[Mailbox, int], channel: str) -> Iterator[Any]:
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker
    config = parse_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms", "email"], "triggers": ["status-change"]},
        "channels": {"sms": {"provider": "twilio", "base_url": provider.url, "account_sid": SID, "auth_token": "t0ken",
                             "sender": "+48600000000", "default_region": "PL", "timeout": 5.0},
                     "email": {"host": "127.0.0.1", "port": mailbox[1], "sender": "Salon <hello@salon.example>", "timeout": 5.0}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": channel, "template": "t"}],
        "templates": {"t": {"sms": "Hi {{ client.name }}, see you {{ subject.start | datetime }}",
                            "email": {"subject": "Your visit", "text": "Hi {{ client.name }}, see you {{ subject.start | datetime }}"}}},
    })
    broker = StubBroker()
    broker.emit_after("process_boot")
    built = build_pipeline(broker, config, MemoryStore(), transports=connect_transports(config), clock=VirtualClock(NOW),
                           min_backoff_ms=10)
    worker = Worker(broker, worker_threads=1, worker_timeout=20)
    worker.start()
    yield built
    worker.stop()
    broker.close()
    for transport in built.transports.values():
        transport.close()


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
        pipeline: Any, provider: Provider, mailbox: tuple[Mailbox, int]) -> None:
    provider.script.append((400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}))
    publish_and_run(pipeline)
    assert len(provider.requests) == 1 and provider.requests[0][1]["To"] == "+48600100200"
    [(sender, recipients, data)] = mailbox[0].received
    message = message_from_bytes(data, policy=policy.default)
    assert recipients == ["ola@example.com"] and message["Subject"] == "Your visit"
    assert message.get_content().strip() == "Hi Ola Nowak, see you Mar 10, 2026, 2:00 PM"
    assert log(pipeline) == [("failed", "sms", "invalid_address"), ("sent", "email", None)]


def test_a_provider_that_answers_503_twice_then_201_delivers_once(
        pipeline: Any, provider: Provider, mailbox: tuple[Mailbox, int]) -> None:
    provider.script.extend([(503, {"message": "busy"}), (503, {"message": "busy"})])
    publish_and_run(pipeline)
    assert len(provider.requests) == 3
    keys = {headers["i-twilio-idempotency-token"] for headers, _ in provider.requests}
    assert len(keys) == 1                          # the same message each time, under one idempotency key
    assert [form["Body"] for _, form in provider.requests] == ["Hi Ola Nowak, see you Mar 10, 2026, 2:00 PM"] * 3
    assert mailbox[0].received == []               # a transient failure is retried, not handed to the next channel
    assert log(pipeline) == [("sent", "sms", None)]
    [sent] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["provider_id"] == "SM3" and sent["info"]["segments"] == 1


@pytest.mark.parametrize(("channel", "smtputf8"), [("prefer_email", False)])
def test_a_mailbox_the_server_cannot_take_gets_the_message_by_sms(
        pipeline: Any, provider: Provider, mailbox: tuple[Mailbox, int]) -> None:
    # Given a server without SMTPUTF8 and a client whose mailbox is not ASCII
    # When a prefer_email message falls due
    publish_and_run(pipeline, email="łucja@example.pl", name="Łucja Nowak")

    # Then e-mail fails for good as invalid_address, recorded, and the message goes by SMS, once
    assert mailbox[0].received == []
    assert [form["To"] for _, form in provider.requests] == ["+48600100200"]
    assert log(pipeline) == [("failed", "email", "invalid_address"), ("sent", "sms", None)]
    [failed] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert failed["to"] == "łucja@example.pl" and "SMTPUTF8" in failed["error"]
    assert pipeline.store.count_pending() == 0


@pytest.mark.parametrize(("channel", "smtputf8"), [("prefer_email", True)])
def test_a_non_ascii_mailbox_is_delivered_by_a_server_that_offers_smtputf8(
        pipeline: Any, provider: Provider, mailbox: tuple[Mailbox, int]) -> None:
    publish_and_run(pipeline, email="łucja@example.pl", name="Łucja Nowak")

    [(sender, recipients, data)] = mailbox[0].received
    assert recipients == ["łucja@example.pl"]
    message = message_from_bytes(data, policy=policy.default)
    assert message["To"].addresses[0].display_name == "Łucja Nowak"
    assert provider.requests == []
    assert log(pipeline) == [("sent", "email", None)]
