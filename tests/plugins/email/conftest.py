"""Real SMTP servers for the e-mail channel's tests: the kit's aiosmtpd servers on ephemeral ports of 127.0.0.1.

Each server records what it received (envelope, raw message, whether it came over TLS) and the
SMTP sessions that greeted it, and can be told to refuse a recipient, defer one, reject a
message or drop a session, the way real servers do (`tidings.testing.SmtpServer`).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import tidings_email.plugin
from attrs import define
from tidings.models import Contact
from tidings.plugin_types import Channel, RenderedMessage, Transport
from tidings.plugins import registry_for
from tidings.testing import SmtpServer, TlsFiles
from tidings_email.config import EmailConfig

SENDER = "Salon Ola <hello@salon.example>"
# the accounts of `auth_server`: a non-ASCII password takes another path through the client
ACCOUNTS = {"tidings": "s3cret-hasło", "relay-user": "plain-ascii-secret"}


@define
class MailServer(SmtpServer):
    """The kit's SMTP server, with the e-mail channel's settings that reach it."""

    def config(self, **overrides: Any) -> EmailConfig:
        """Settings that reach this server (trusting its CA), with `overrides` applied."""
        settings: dict[str, Any] = {"host": self.host, "port": self.port, "security": self.security,
                                    "ca_file": self.ca_file, "sender": SENDER, "timeout": 5.0}
        return EmailConfig(**{**settings, **overrides})


@pytest.fixture
def start_server(start_service: Callable[[MailServer], MailServer], tls_files: TlsFiles) -> Callable[..., MailServer]:
    """Start aiosmtpd servers: ``start_server(security=..., accounts=..., **smtp_kwargs)``; all stop after the test."""

    def start(*, security: str = "none", accounts: dict[str, str] | None = None, **smtp_kwargs: Any) -> MailServer:
        return start_service(MailServer(security=security, tls=tls_files, accounts=dict(accounts or {}),
                                        options=smtp_kwargs))

    return start


@pytest.fixture
def smtp_server(start_server: Callable[..., MailServer]) -> MailServer:
    """A plain SMTP server (no TLS, no AUTH), like a local relay."""
    return start_server()


@pytest.fixture
def starttls_server(start_server: Callable[..., MailServer]) -> MailServer:
    """A server that requires STARTTLS before MAIL, with a certificate from the test CA."""
    return start_server(security="starttls")


@pytest.fixture
def tls_server(start_server: Callable[..., MailServer]) -> MailServer:
    """A server speaking implicit TLS (like port 465), with a certificate from the test CA."""
    return start_server(security="ssl")


@pytest.fixture
def auth_server(start_server: Callable[..., MailServer]) -> MailServer:
    """A submission server: STARTTLS, then AUTH (PLAIN or LOGIN) with one of `ACCOUNTS`."""
    return start_server(security="starttls", accounts=ACCOUNTS)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 that refuses connections: bound, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port of 127.0.0.1 that accepts connections but never says a word (a hung server)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def email_channel() -> Channel:
    """The channel as the core sees it: registered by ``tidings_email.plugin``."""
    return registry_for(tidings_email.plugin).channels["email"]


@pytest.fixture
def connect(email_channel: Channel, connect_transport: Callable[[Channel, EmailConfig], Transport]
            ) -> Callable[[EmailConfig], Transport]:
    """Build transports through the channel's ``connect``; every one is closed after the test."""
    return lambda config: connect_transport(email_channel, config)


@pytest.fixture
def make_message() -> Callable[..., RenderedMessage]:
    """Build a rendered e-mail as the core hands it to the transport; keywords override the defaults."""

    def make(*, to: str = "anna@example.com", subject: str = "Your visit on 10 March",
             text: str = "See you on 10 March at 14:00.",
             html: str = "<p>See you on <b>10 March</b> at 14:00.</p>",
             name: str = "Anna Nowak", location: str = "old-town", locale: str = "en") -> RenderedMessage:
        return RenderedMessage(channel="email", to=to, parts={"subject": subject, "text": text, "html": html},
                               rule="visit-reminder", subject="apt-1",
                               recipient=Contact(id="cl-1", name=name, email=to, locale=locale), locale=locale,
                               location={"id": location, "name": "Old Town", "address": "", "phone": ""})

    return make
