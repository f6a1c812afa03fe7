"""The SMTP transport against real aiosmtpd servers: MIME, TLS, AUTH, failures and session reuse."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
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


# ------------------------------------------------------------------ injection through encoded-words

# a client name (or any header value) that Python 3.11.7's email package would decode and write out
# as a Reply-To header and a body; q- and b-encoded, once and twice, and with Unicode line separators
INJECTIONS = {
    "q": "=?utf-8?q?Ola=0D=0AReply-To:_x@evil.example=0D=0A=0D=0APay_here?=",
    "Q-latin1": "=?ISO-8859-1?Q?Ola=0D=0AReply-To:_x@evil.example=0D=0A=0D=0APay_here?=",
    "b": "=?utf-8?b?T2xhDQpSZXBseS1UbzogeEBldmlsLmV4YW1wbGUNCg0KUGF5IGhlcmU=?=",
    "u2028": "=?utf-8?q?Ola=E2=80=A8Reply-To:_x@evil.example=E2=80=A9=E2=80=A9Pay_here?=",
    "nel": "=?utf-8?q?Ola=C2=85Reply-To:_x@evil.example=C2=85=C2=85Pay_here?=",
    "twice": "=?utf-8?q?=3D=3Futf-8=3Fq=3FOla=3D0D=3D0AReply-To=3A=5Fx=40evil.example=3D0D=3D0A=3D0D=3D0APay=5Fhere=3F=3D?=",
}
# the same, without ':' and '@', which a mailbox setting cannot hold unquoted
CONFIG_INJECTIONS = {
    "q": "=?utf-8?q?Desk=0D=0AReply-To=3A_x=40evil.example=0D=0A=0D=0APay_here?=",
    "b": "=?utf-8?b?RGVzaw0KUmVwbHktVG86IHhAZXZpbC5leGFtcGxlDQoNClBheSBoZXJl?=",
}


def assert_harmless(received: Any, *, reply_to: str | None = None) -> None:
    """What the server got has no header nor body but ours, and every name in it is on one line."""
    email = received.message
    assert received.rcpt_tos == ("anna@example.com",)
    assert (str(email["Reply-To"]) if email["Reply-To"] is not None else None) == reply_to
    assert email["Bcc"] is None and "Pay here" not in received.data.decode("ascii")
    text, html = email.iter_parts()
    assert (text.get_content(), html.get_content()) == ("See you on 10 March at 14:00.\n",
                                                        "<p>See you on <b>10 March</b> at 14:00.</p>\n")
    for header in ("From", "To", "Subject"):
        assert len(str(email[header]).splitlines()) == 1, (header, str(email[header]))


@pytest.mark.parametrize("form", INJECTIONS)
def test_an_encoded_word_in_the_client_name_reaches_the_server_as_the_name_only(
        smtp_server: Any, connect: Connect, make_message: MakeMessage, form: str) -> None:
    connect(smtp_server.config()).send(make_message(name=INJECTIONS[form]), idempotency_key="key-1")

    [received] = smtp_server.handler.received
    assert_harmless(received)
    [to] = received.message["To"].addresses
    assert (to.display_name, to.addr_spec) == (INJECTIONS[form], "anna@example.com")   # shown as it was written


@pytest.mark.parametrize("form", INJECTIONS)
def test_an_encoded_word_in_the_subject_reaches_the_server_as_the_subject_only(
        smtp_server: Any, connect: Connect, make_message: MakeMessage, form: str) -> None:
    connect(smtp_server.config()).send(make_message(subject=f"Your visit {INJECTIONS[form]}"), idempotency_key="key-1")

    [received] = smtp_server.handler.received
    assert_harmless(received)
    assert str(received.message["Subject"]) == f"Your visit {INJECTIONS[form]}"


@pytest.mark.parametrize("form", CONFIG_INJECTIONS)
def test_an_encoded_word_in_the_sender_and_reply_to_names_adds_no_header(
        smtp_server: Any, connect: Connect, make_message: MakeMessage, form: str) -> None:
    name = CONFIG_INJECTIONS[form]
    transport = connect(smtp_server.config(sender=f"{name} <hello@salon.example>", reply_to=f"{name} <desk@salon.example>"))

    transport.send(make_message(), idempotency_key="key-1")

    [received] = smtp_server.handler.received
    email = received.message
    assert_harmless(received, reply_to=str(email["Reply-To"]))
    [reply_to] = email["Reply-To"].addresses
    [sender] = email["From"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == (name, "desk@salon.example")
    assert (sender.display_name, sender.addr_spec) == (name, "hello@salon.example")
    assert len(email.get_all("Reply-To")) == 1


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"],
                         ids=lambda c: f"U+{ord(c[0]):04X}")
@pytest.mark.parametrize("field", ["subject", "name"])
def test_a_raw_line_break_of_any_kind_is_refused_before_connecting(
        smtp_server: Any, connect: Connect, make_message: MakeMessage, field: str, brk: str) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        connect(smtp_server.config()).send(make_message(**{field: f"Ola{brk}Reply-To: x@evil.example"}),
                                           idempotency_key="key-1")

    assert refused.value.reason == "header_injection"
    assert smtp_server.handler.sessions == [] and smtp_server.handler.received == []


# ------------------------------------------------------------------ internationalised mailboxes


def test_a_non_ascii_mailbox_without_smtputf8_is_a_permanent_invalid_address(
        start_server: Callable[..., Any], connect: Connect, make_message: MakeMessage) -> None:
    # Given a server that does not offer SMTPUTF8
    server = start_server(enable_SMTPUTF8=False)
    transport = connect(server.config())

    # When a message goes to a mailbox whose local part is not ASCII
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(make_message(to="łucja@example.pl", name="Łucja"), idempotency_key="key-1")
    transport.send(make_message(), idempotency_key="key-2")

    # Then it is refused as an address this server cannot take, and the session goes on
    assert refused.value.reason == "invalid_address"
    assert "SMTPUTF8" in str(refused.value)
    assert [r.rcpt_tos for r in server.handler.received] == [("anna@example.com",)]
    assert len(server.handler.sessions) == 1


def test_a_non_ascii_mailbox_is_delivered_by_a_server_that_offers_smtputf8(
        start_server: Callable[..., Any], connect: Connect, make_message: MakeMessage) -> None:
    server = start_server(enable_SMTPUTF8=True)

    connect(server.config()).send(make_message(to="łucja@łódź.example.pl", name="Łucja Żak"), idempotency_key="key-1")

    [received] = server.handler.received
    assert received.rcpt_tos == ("łucja@łódź.example.pl",)
    # an SMTPUTF8 message carries its headers in UTF-8
    email = message_from_string(received.data.decode("utf-8").replace("\r\n", "\n"), policy=policy.default)
    [to] = email["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Łucja Żak", "łucja@łódź.example.pl")
    assert str(email["Subject"]) == "Your visit on 10 March"


def test_a_non_ascii_sender_without_smtputf8_is_a_permanent_rejection_naming_the_setting(
        start_server: Callable[..., Any], connect: Connect, make_message: MakeMessage) -> None:
    server = start_server(enable_SMTPUTF8=False)

    with pytest.raises(PermanentDeliveryError) as refused:
        connect(server.config(sender="Salon <łucja@salon.example>")).send(make_message(), idempotency_key="key-1")

    assert refused.value.reason == "provider_rejected"
    assert "channels.email.sender" in str(refused.value)


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
