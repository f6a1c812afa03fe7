"""The kit's SMTP server, checked with the standard library's client: what it records and what it requires."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable

import pytest

from tidings.testing import SmtpServer

MESSAGE = "From: hello@salon.example\r\nTo: ola@example.com\r\nSubject: Your visit\r\n\r\nSee you.\r\n"
StartSmtpServer = Callable[..., SmtpServer]


def test_a_plain_server_records_the_envelope_the_message_and_the_session(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
        client.sendmail("hello@salon.example", ["ivan@example.com"], MESSAGE)

    first, second = smtp_server.handler.received
    assert (first.mail_from, first.rcpt_tos) == ("hello@salon.example", ("ola@example.com",))
    assert first.message["Subject"] == "Your visit" and first.message.get_content() == "See you.\n"
    assert [r.session for r in (first, second)] == [0, 0] and not first.tls
    assert smtp_server.handler.quits == 1 and smtp_server.ca_file == ""


def test_a_starttls_server_refuses_mail_before_starttls_and_takes_it_after(start_smtp_server: StartSmtpServer) -> None:
    server = start_smtp_server(security="starttls")
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
        assert refused.value.smtp_code == 530
        client.starttls(context=ssl.create_default_context(cafile=server.ca_file))
        client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)

    [received] = server.handler.received
    assert received.tls


def test_an_implicit_tls_server_speaks_tls_from_the_first_byte(start_smtp_server: StartSmtpServer) -> None:
    server = start_smtp_server(security="ssl")
    context = ssl.create_default_context(cafile=server.ca_file)
    with smtplib.SMTP_SSL(server.host, server.port, timeout=5, context=context) as client:
        client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
    assert [r.tls for r in server.handler.received] == [True]


@pytest.mark.parametrize("smtputf8", [True, False])
def test_smtputf8_is_offered_unless_the_server_is_told_not_to(start_smtp_server: StartSmtpServer, smtputf8: bool) -> None:
    server = start_smtp_server(smtputf8=smtputf8)
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") is smtputf8


def test_accounts_make_auth_required_and_only_their_passwords_pass(start_smtp_server: StartSmtpServer) -> None:
    server = start_smtp_server(security="starttls", accounts={"tidings": "s3cret-haslo"})
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        client.starttls(context=ssl.create_default_context(cafile=server.ca_file))
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)   # not yet logged in
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("tidings", "wrong")
        client.login("tidings", "s3cret-haslo")
        client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
    assert len(server.handler.received) == 1


def test_a_scripted_data_reply_answers_one_message_only(smtp_server: SmtpServer) -> None:
    smtp_server.handler.then("451 4.3.0 try again later")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
        client.sendmail("hello@salon.example", ["ola@example.com"], MESSAGE)
    assert deferred.value.smtp_code == 451
    assert len(smtp_server.handler.received) == 1


def test_an_unknown_security_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'tls' is not a security \(choose one of: none, starttls, ssl\)"):
        SmtpServer(security="tls").start()
