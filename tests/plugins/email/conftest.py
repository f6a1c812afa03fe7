"""Real SMTP servers for the e-mail channel's tests: aiosmtpd on ephemeral ports of 127.0.0.1.

Each server records what it received (envelope, raw message, whether it came over TLS) and the
SMTP sessions that greeted it, and can be told to refuse a recipient, defer one, reject a
message or drop a session, the way real servers do.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, NoReturn

import pytest
import tidings_email.plugin
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from attrs import define, field, frozen
from tidings.models import Contact
from tidings.plugin_types import Channel, RenderedMessage, Transport
from tidings.plugins import registry_for
from tidings_email.config import EmailConfig

SENDER = "Salon Ola <hello@salon.example>"
# the accounts of `auth_server`: a non-ASCII password takes another path through the client
ACCOUNTS = {"tidings": "s3cret-hasło", "relay-user": "plain-ascii-secret"}


def _unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it under CI, where a missing service is a broken build."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@frozen
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    session: int       # which SMTP session (0, 1, ...) carried it
    tls: bool

    @property
    def message(self) -> EmailMessage:
        # on the wire lines end in CRLF; parsed as is, the bodies would keep the CRs
        parsed = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@define
class Recorder:
    """An aiosmtpd handler that records every message and every session that said EHLO."""

    rcpt_replies: dict[str, str] = field(factory=dict)   # recipient -> reply, like "550 5.1.1 no such user"
    data_reply: str | None = None                       # a reply to DATA instead of accepting it
    drop_at_noop: bool = False                          # close the session at the next NOOP (once)
    received: list[Received] = field(factory=list)
    sessions: list[Any] = field(factory=list)
    quits: int = 0

    def _session(self, session: Any) -> int:
        for i, known in enumerate(self.sessions):
            if known is session:
                return i
        self.sessions.append(session)
        return len(self.sessions) - 1

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname   # aiosmtpd leaves this to an EHLO hook
        self._session(session)
        return responses

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        if self.drop_at_noop:
            self.drop_at_noop = False
            server.transport.close()
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(Received(mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos),
                                      data=envelope.original_content or envelope.content,
                                      session=self._session(session),
                                      # session.ssl is set by STARTTLS; implicit TLS shows on the transport
                                      tls=session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None))
        return "250 2.0.0 Ok: queued"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


class _EphemeralController(Controller):
    """A Controller on port 0: it learns the port the system chose before it checks the server answers."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@define
class SmtpServer:
    """A running aiosmtpd server and what it recorded."""

    host: str
    port: int
    handler: Recorder
    security: str = "none"
    ca_file: str = ""
    accounts: dict[str, str] = field(factory=dict, repr=False)   # login -> password, if AUTH is required

    def config(self, **overrides: Any) -> EmailConfig:
        """Settings that reach this server (trusting its CA), with `overrides` applied."""
        settings: dict[str, Any] = {"host": self.host, "port": self.port, "security": self.security,
                                    "ca_file": self.ca_file, "sender": SENDER, "timeout": 5.0}
        return EmailConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a certificate for 127.0.0.1 from a test CA, and that CA's PEM file."""
    try:
        import trustme
    except ImportError:
        _unavailable("trustme is not installed: it makes the test CA and certificate (pip install trustme)")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, str(ca_file)


@pytest.fixture
def start_server() -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers: ``start_server(security=..., **smtp_kwargs)``; all stop after the test."""
    running: list[Controller] = []

    def start(*, security: str = "none", ca_file: str = "", ssl_context: ssl.SSLContext | None = None,
              accounts: dict[str, str] | None = None, **smtp_kwargs: Any) -> SmtpServer:
        handler = Recorder()
        controller = _EphemeralController(handler, hostname="127.0.0.1", port=0, ssl_context=ssl_context,
                                          ready_timeout=5.0, **smtp_kwargs)
        try:
            controller.start()
        except (OSError, RuntimeError) as e:   # cannot bind, or does not answer (TimeoutError is an OSError)
            _unavailable(f"aiosmtpd could not start on 127.0.0.1: {e!r}")
        running.append(controller)
        return SmtpServer(host="127.0.0.1", port=controller.port, handler=handler, security=security, ca_file=ca_file,
                          accounts=dict(accounts or {}))

    yield start
    for controller in running:
        controller.stop()


@pytest.fixture
def smtp_server(start_server: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server (no TLS, no AUTH), like a local relay."""
    return start_server()


@pytest.fixture
def starttls_server(start_server: Callable[..., SmtpServer], tls_files: tuple[ssl.SSLContext, str]) -> SmtpServer:
    """A server that requires STARTTLS before MAIL, with a certificate from the test CA."""
    context, ca_file = tls_files
    return start_server(security="starttls", ca_file=ca_file, tls_context=context, require_starttls=True)


@pytest.fixture
def tls_server(start_server: Callable[..., SmtpServer], tls_files: tuple[ssl.SSLContext, str]) -> SmtpServer:
    """A server speaking implicit TLS (like port 465), with a certificate from the test CA."""
    context, ca_file = tls_files
    return start_server(security="ssl", ca_file=ca_file, ssl_context=context)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword)
          and ACCOUNTS.get(auth_data.login.decode("utf-8", "replace"), "").encode() == auth_data.password)
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server(start_server: Callable[..., SmtpServer], tls_files: tuple[ssl.SSLContext, str]) -> SmtpServer:
    """A submission server: STARTTLS, then AUTH (PLAIN or LOGIN) with one of `ACCOUNTS`."""
    context, ca_file = tls_files
    return start_server(security="starttls", ca_file=ca_file, tls_context=context, require_starttls=True,
                        authenticator=_authenticate, auth_required=True, accounts=ACCOUNTS)


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
def connect(email_channel: Channel) -> Iterator[Callable[[EmailConfig], Transport]]:
    """Build transports through the channel's ``connect``; every one is closed after the test."""
    transports: list[Transport] = []

    def make(config: EmailConfig) -> Transport:
        transport = email_channel.connect(config)
        transports.append(transport)
        return transport

    yield make
    for transport in transports:
        transport.close()


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
