"""A local SMTP server to test a transport against: aiosmtpd on an ephemeral port of 127.0.0.1.

The server records what it received (envelope, raw message, whether it came over TLS) and the
SMTP sessions that greeted it, and can be told to refuse a recipient, defer one, reject a
message or drop a session, the way real servers do. It speaks plain SMTP, STARTTLS (required
before MAIL) or implicit TLS with a certificate from a throw-away CA (`TlsFiles`), offers
SMTPUTF8 unless told not to, and requires AUTH when given accounts.

aiosmtpd and trustme are imported when a server or a CA is made, so a plugin whose tests need
no SMTP needs neither installed.
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from attrs import define, field, frozen

if TYPE_CHECKING:
    import asyncio

    from aiosmtpd.controller import Controller

SECURITIES = ("none", "starttls", "ssl")


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
    data_reply: str | None = None                       # a reply to every DATA instead of accepting it
    data_replies: deque[str] = field(factory=deque)     # replies to the next DATAs, one each (`then`)
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

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
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

    def then(self, reply: str) -> None:
        """Answer the next message's DATA with `reply` (like ``"451 4.3.0 try again later"``), once."""
        self.data_replies.append(reply)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        if self.data_reply is not None:
            return self.data_reply
        # session.ssl is set by STARTTLS; implicit TLS shows on the transport
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(mail_from=envelope.mail_from, rcpt_tos=tuple(envelope.rcpt_tos),
                                      data=envelope.original_content or envelope.content,
                                      session=self._session(session), tls=tls))
        return "250 2.0.0 Ok: queued"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


@frozen
class TlsFiles:
    """A server TLS context with a certificate for 127.0.0.1 from a test CA, and that CA's PEM file."""

    context: ssl.SSLContext
    ca_file: str

    @classmethod
    def make(cls, folder: Path) -> TlsFiles:
        """A fresh CA (trustme) whose PEM file is written into `folder`."""
        import trustme

        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        return cls(context=context, ca_file=str(ca_file))


@define
class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 and what it recorded; `start` it, then `stop` it.

    Args:
        security: ``"none"``, ``"starttls"`` (required before MAIL) or ``"ssl"`` (implicit TLS);
            the last two need `tls`.
        smtputf8: whether the server offers SMTPUTF8 (non-ASCII mailboxes).
        accounts: login -> password; when given, AUTH (PLAIN or LOGIN) is required.
        options: further keywords for aiosmtpd's ``SMTP`` class.
    """

    security: str = "none"
    tls: TlsFiles | None = None
    smtputf8: bool = True
    accounts: Mapping[str, str] = field(factory=dict, repr=False)
    options: Mapping[str, Any] = field(factory=dict)
    handler: Recorder = field(factory=Recorder)
    host: str = "127.0.0.1"
    port: int = 0
    controller: Controller | None = field(default=None, repr=False)

    @property
    def ca_file(self) -> str:
        """The PEM file of the CA that signed the server's certificate ("" without TLS)."""
        return self.tls.ca_file if self.tls is not None and self.security != "none" else ""

    def start(self) -> SmtpServer:
        """Listen on a fresh port; raises OSError or RuntimeError when aiosmtpd cannot start."""
        if self.security not in SECURITIES:
            raise ValueError(f"{self.security!r} is not a security (choose one of: {', '.join(SECURITIES)})")
        if self.security != "none" and self.tls is None:
            raise ValueError(f"security {self.security!r} needs tls=TlsFiles.make(folder)")
        options: dict[str, Any] = {"enable_SMTPUTF8": self.smtputf8, **self.options}
        if self.tls is not None and self.security == "starttls":
            options.update(tls_context=self.tls.context, require_starttls=True)
        if self.accounts:
            options.update(authenticator=self._authenticate, auth_required=True)
        ssl_context = self.tls.context if self.tls is not None and self.security == "ssl" else None
        self.controller = _ephemeral_controller(self.handler, ssl_context=ssl_context, **options)
        self.controller.start()
        self.port = self.controller.port
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword)
              and self.accounts.get(auth_data.login.decode("utf-8", "replace"), "").encode() == auth_data.password)
        return AuthResult(success=ok, handled=False)


def _ephemeral_controller(handler: Recorder, *, ssl_context: ssl.SSLContext | None, **options: Any) -> Controller:
    from aiosmtpd.controller import Controller

    class Ephemeral(Controller):
        """A Controller on port 0: it learns the port the system chose before it checks the server answers."""

        def _trigger_server(self) -> None:
            server = cast("asyncio.Server", self.server)
            self.port = server.sockets[0].getsockname()[1]
            super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves this one untyped

    return Ephemeral(handler, hostname="127.0.0.1", port=0, ssl_context=ssl_context, ready_timeout=5.0, **options)
