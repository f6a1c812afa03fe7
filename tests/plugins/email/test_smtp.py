"""The SMTP transport against real aiosmtpd servers: MIME, TLS, AUTH, failures and session reuse."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from tidings.errors import PermanentDeliveryError, TransientDeliveryError
from tidings.plugin_types import RenderedMessage, Transport
from tidings_email.config import EmailConfig
from tidings_email.mime import message_id

Connect = Callable[[EmailConfig], Transport]
MakeMessage = Callable[..., RenderedMessage]

# ------------------------------------------------------------------ the message


def test_a_message_arrives_as_utf8_multipart_alternative_with_text_then_html(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    # Given
    transport = connect(smtp_server.config())
    message = make_message(subject="Zażółć gęślą jaźń — Привіт, до зустрічі!", text="Cześć Anno, do zobaczenia — Привіт!",
                           html="<p>Cześć <b>Anno</b> — Привіт!</p>", name="Anna Żak")

    # When
    receipt = transport.send(message, idempotency_key="key-1")

    # Then
    [received] = smtp_server.handler.received
    assert received.mail_from == "hello@salon.example"
    assert received.rcpt_tos == ("anna@example.com",)
    email = received.message
    assert email.get_content_type() == "multipart/alternative"
    text, html = email.iter_parts()
    assert (text.get_content_type(), text.get_content_charset()) == ("text/plain", "utf-8")
    assert (html.get_content_type(), html.get_content_charset()) == ("text/html", "utf-8")
    assert text.get_content() == "Cześć Anno, do zobaczenia — Привіт!\n"
    assert html.get_content() == "<p>Cześć <b>Anno</b> — Привіт!</p>\n"
    assert str(email["Subject"]) == "Zażółć gęślą jaźń — Привіт, до зустрічі!"
    raw_subject = next(line for line in received.data.split(b"\r\n") if line.startswith(b"Subject:"))
    assert raw_subject.startswith(b"Subject: =?utf-8?")   # RFC 2047 encoded words
    assert received.data.isascii()   # nothing needs 8BITMIME or SMTPUTF8
    assert str(email["From"]) == "Salon Ola <hello@salon.example>"
    assert email["To"].addresses[0].display_name == "Anna Żak"
    assert email["To"].addresses[0].addr_spec == "anna@example.com"
    date = parsedate_to_datetime(str(email["Date"]))
    assert date.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - date) < timedelta(minutes=1)
    assert str(email["Message-ID"]) == receipt.provider_id == message_id("key-1", "salon.example")
    assert str(email["X-Tidings-Idempotency-Key"]) == "key-1"
    assert str(email["Auto-Submitted"]) == "auto-generated"


def test_an_empty_html_part_sends_a_single_text_plain_part(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    connect(smtp_server.config()).send(make_message(html=""), idempotency_key="key-1")

    email = smtp_server.handler.received[0].message
    assert not email.is_multipart()
    assert email.get_content_type() == "text/plain"
    assert email.get_content() == "See you on 10 March at 14:00.\n"


def test_a_retry_carries_the_same_message_id_and_another_message_another(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config(message_id_domain="mail.salon.example"))

    first = transport.send(make_message(), idempotency_key="visit-reminder|apt-1|client|2026-03-09")
    retry = transport.send(make_message(), idempotency_key="visit-reminder|apt-1|client|2026-03-09")
    other = transport.send(make_message(), idempotency_key="visit-reminder|apt-2|client|2026-03-09")

    ids = [str(r.message["Message-ID"]) for r in smtp_server.handler.received]
    assert ids[0] == ids[1] == first.provider_id == retry.provider_id
    assert ids[2] == other.provider_id != ids[0]
    assert ids[0].endswith("@mail.salon.example>")


def test_reply_to_and_the_sender_of_the_message_location_are_used(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config(reply_to="Reception <desk@salon.example>",
                                           senders_by_location={"old-town": "Salon Ola Old Town <oldtown@salon.example>"}))

    transport.send(make_message(location="old-town"), idempotency_key="key-1")
    transport.send(make_message(location="riverside"), idempotency_key="key-2")

    old_town, riverside = smtp_server.handler.received
    assert old_town.mail_from == "oldtown@salon.example"
    assert str(old_town.message["From"]) == "Salon Ola Old Town <oldtown@salon.example>"
    assert riverside.mail_from == "hello@salon.example"
    assert str(riverside.message["From"]) == "Salon Ola <hello@salon.example>"
    assert str(old_town.message["Reply-To"]) == "Reception <desk@salon.example>"


@pytest.mark.parametrize("field", ["subject", "name", "to"])
def test_a_line_break_in_a_header_value_is_refused_before_connecting(
        smtp_server: Any, connect: Connect, make_message: MakeMessage, field: str) -> None:
    transport = connect(smtp_server.config())
    value = {"subject": "Hi\r\nBcc: victim@example.com", "name": "Anna\nBcc: victim@example.com",
             "to": "anna@example.com\r\nBcc: victim@example.com"}[field]

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(**{field: value}), idempotency_key="key-1")

    assert refused.value.reason == "header_injection"
    assert smtp_server.handler.sessions == []     # not even a connection
    assert smtp_server.handler.received == []


# ------------------------------------------------------------------ failures


def test_a_recipient_refused_with_550_is_a_permanent_invalid_address(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    smtp_server.handler.rcpt_replies["gone@example.com"] = "550 5.1.1 <gone@example.com>: mailbox unavailable"

    with pytest.raises(PermanentDeliveryError) as refused:
        connect(smtp_server.config()).send(make_message(to="gone@example.com"), idempotency_key="key-1")

    assert refused.value.reason == "invalid_address"
    assert refused.value.details["code"] == 550
    assert smtp_server.handler.received == []


def test_a_recipient_deferred_with_451_is_transient(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    smtp_server.handler.rcpt_replies["busy@example.com"] = "451 4.3.0 try again later"

    with pytest.raises(TransientDeliveryError) as deferred:
        connect(smtp_server.config()).send(make_message(to="busy@example.com"), idempotency_key="key-1")

    assert deferred.value.details["code"] == 451


def test_a_recipient_refused_with_another_5xx_is_a_permanent_provider_rejection(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    smtp_server.handler.rcpt_replies["anna@example.com"] = "554 5.7.1 relay access denied"

    with pytest.raises(PermanentDeliveryError) as refused:
        connect(smtp_server.config()).send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_rejected"


def test_a_message_rejected_after_data_is_permanent_and_the_session_stays_usable(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config())
    smtp_server.handler.data_reply = "554 5.6.0 message content rejected"

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(), idempotency_key="key-1")
    smtp_server.handler.data_reply = None
    transport.send(make_message(), idempotency_key="key-2")

    assert refused.value.reason == "provider_rejected"
    assert refused.value.details["stage"] == "DATA"
    assert [r.session for r in smtp_server.handler.received] == [0]
    assert len(smtp_server.handler.sessions) == 1


def test_a_refused_connection_is_transient(closed_port: int, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(EmailConfig(host="127.0.0.1", port=closed_port, sender="hello@salon.example"))

    with pytest.raises(TransientDeliveryError) as failed:
        transport.send(make_message(), idempotency_key="key-1")

    assert "ConnectionRefusedError" in str(failed.value)


def test_a_server_that_never_greets_is_a_transient_timeout(
        silent_port: int, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(EmailConfig(host="127.0.0.1", port=silent_port, sender="hello@salon.example", timeout=0.3))

    with pytest.raises(TransientDeliveryError) as failed:
        transport.send(make_message(), idempotency_key="key-1")

    assert "timed out" in str(failed.value)


# ------------------------------------------------------------------ sessions


def test_sends_share_one_smtp_session_and_close_ends_it_with_quit(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config())

    transport.send(make_message(), idempotency_key="key-1")
    transport.send(make_message(to="piotr@example.com"), idempotency_key="key-2")
    transport.close()

    assert [r.session for r in smtp_server.handler.received] == [0, 0]
    assert len(smtp_server.handler.sessions) == 1
    assert smtp_server.handler.quits == 1


def test_a_session_the_server_closed_is_replaced_without_an_error(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    # Given a session that the server drops while it is idle
    transport = connect(smtp_server.config())
    transport.send(make_message(), idempotency_key="key-1")
    smtp_server.handler.drop_at_noop = True

    # When
    transport.send(make_message(), idempotency_key="key-2")

    # Then the second message went through a new session
    assert [r.session for r in smtp_server.handler.received] == [0, 1]


def test_concurrent_sends_from_worker_threads_all_arrive_with_at_most_one_session_per_thread(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    # Given one transport shared by four worker threads, as in a Dramatiq worker process
    transport = connect(smtp_server.config())

    def worker(n: int) -> None:
        for i in range(5):
            transport.send(make_message(to=f"client{n}.{i}@example.com"), idempotency_key=f"key-{n}-{i}")

    # When
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(worker, n) for n in range(4)]:
            done.result()   # re-raises a worker's error here

    # Then
    received = smtp_server.handler.received
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(f"client{n}.{i}@example.com" for n in range(4) for i in range(5))
    assert len(smtp_server.handler.sessions) <= 4


# ------------------------------------------------------------------ TLS and AUTH


def test_starttls_upgrades_the_session_before_the_message_is_sent(
        starttls_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    connect(starttls_server.config()).send(make_message(), idempotency_key="key-1")

    [received] = starttls_server.handler.received
    assert received.tls


def test_a_certificate_from_an_untrusted_ca_is_a_permanent_tls_failure(
        starttls_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(starttls_server.config(ca_file=""))   # the system's CAs do not know the test CA

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_tls"
    assert starttls_server.handler.received == []


def test_starttls_is_required_when_configured_and_never_silently_skipped(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config(security="starttls"))

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_tls"
    assert "STARTTLS" in str(refused.value)
    assert smtp_server.handler.received == []


def test_implicit_tls_delivers_over_an_encrypted_connection(
        tls_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    connect(tls_server.config()).send(make_message(), idempotency_key="key-1")

    [received] = tls_server.handler.received
    assert received.tls
    assert received.rcpt_tos == ("anna@example.com",)


def test_implicit_tls_against_a_plain_server_is_a_permanent_tls_failure(
        smtp_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(smtp_server.config(security="ssl"))

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_tls"


@pytest.mark.parametrize("login", ["tidings", "relay-user"], ids=["non-ascii password", "ascii password"])
def test_login_after_starttls_lets_the_message_through(
        auth_server: Any, connect: Connect, make_message: MakeMessage, login: str) -> None:
    transport = connect(auth_server.config(username=login, password=auth_server.accounts[login]))

    transport.send(make_message(), idempotency_key="key-1")

    [received] = auth_server.handler.received
    assert received.tls


def test_the_password_may_come_from_the_environment(
        auth_server: Any, connect: Connect, make_message: MakeMessage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_SMTP_PASSWORD", auth_server.accounts["tidings"])

    connect(auth_server.config(username="tidings")).send(make_message(), idempotency_key="key-1")

    assert len(auth_server.handler.received) == 1


def test_a_refused_login_is_a_permanent_provider_auth_failure(
        auth_server: Any, connect: Connect, make_message: MakeMessage) -> None:
    transport = connect(auth_server.config(username="tidings", password="wrong"))

    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_auth"
    assert refused.value.details["code"] == 535
    assert "wrong" not in str(refused.value)
    assert auth_server.handler.received == []
