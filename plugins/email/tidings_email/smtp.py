"""The SMTP transport: standard-library ``smtplib``, plain, STARTTLS or implicit TLS, sessions reused.

A worker shares one transport between its threads. Sessions are therefore pooled: a send takes
an idle session (checked with ``NOOP``, and replaced when the server has closed it) or opens a
new one, and puts it back afterwards, so sequential sends share one SMTP session and concurrent
ones never interleave commands on a socket.

Failures are classified for the core (PRODUCT §7): what a retry can cure is a
`TransientDeliveryError`; what it cannot is a `PermanentDeliveryError` whose ``reason`` says why,
and the core then tries the recipient's next usable channel.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
import threading
from typing import TYPE_CHECKING

from attrs import define, field
from tidings.clock import Clock, SystemClock
from tidings.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from tidings.logging import get_logger
from tidings.plugin_types import Receipt

from tidings_email.addresses import Mailbox, ascii_address, normalise
from tidings_email.mime import build_message

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage

    from tidings_email.config import EmailConfig

log = get_logger(__name__)

# replies to RCPT TO that say the mailbox does not exist or cannot be used (RFC 5321 §4.2.3)
INVALID_ADDRESS_CODES = (550, 551, 553)


@define
class SmtpTransport:
    """Delivers rendered e-mails through one SMTP server; see `tidings_email.config.EmailConfig`.

    Attributes:
        config: the channel's settings.
        password: the login's password (the configured one or ``$TIDINGS_SMTP_PASSWORD``).
        clock: tells the ``Date`` of each message.
    """

    config: EmailConfig
    password: str = field(default="", repr=False)
    clock: Clock = field(factory=SystemClock)
    _idle: list[smtplib.SMTP] = field(factory=list, init=False, repr=False)
    _lock: threading.Lock = field(factory=threading.Lock, init=False, repr=False)
    _tls: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Deliver `message` to ``message.to``; the receipt's ``provider_id`` is its ``Message-ID``.

        Raises:
            PermanentDeliveryError: with ``reason`` ``header_injection`` (nothing was sent, no
                connection was made), ``invalid_address`` (550, 551 or 553 for the recipient, or a
                non-ASCII mailbox and a server that does not offer SMTPUTF8),
                ``provider_auth`` (the login was refused), ``provider_tls`` (no STARTTLS, or a
                certificate that cannot be verified), ``empty_message`` (no body) or
                ``provider_rejected`` (any other 5xx).
            TransientDeliveryError: for 4xx replies, timeouts, refused or dropped connections.
        """
        location = message.location.get("id") if message.location else None
        sender = Mailbox.parse(self.config.sender_for(location))
        reply_to = Mailbox.parse(self.config.reply_to) if self.config.reply_to else None
        email = build_message(message, sender=sender, reply_to=reply_to, idempotency_key=idempotency_key,
                              date=self.clock.now(), message_id_domain=self.config.message_id_domain)
        recipient = ascii_address(normalise(message.to) or message.to)
        smtp = self._checkout()
        keep = True
        try:
            smtp.send_message(email, from_addr=ascii_address(sender.address), to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = e.recipients.get(recipient) or next(iter(e.recipients.values()), (0, b""))
            raise _refused(code, reply, stage="RCPT TO") from None
        except smtplib.SMTPNotSupportedError as e:
            # smtplib raises this before DATA when an address needs SMTPUTF8 and the server lacks it
            raise self._needs_smtputf8(recipient, sender.address, e) from None
        except smtplib.SMTPResponseException as e:
            keep = e.smtp_code != 421
            raise _refused(e.smtp_code, e.smtp_error, stage="MAIL FROM" if isinstance(e, smtplib.SMTPSenderRefused)
                           else "DATA") from None
        except (smtplib.SMTPException, OSError) as e:
            keep = False
            raise TransientDeliveryError(f"{self._where()} failed while sending: {_describe(e)}",
                                         reason="provider_unavailable", details={"error": _describe(e)}) from None
        finally:
            if keep:
                self._checkin(smtp)
            else:
                _quit(smtp)
        message_id = str(email["Message-ID"])
        log.debug("email_accepted", to=message.to, message_id=message_id)
        return Receipt(provider_id=message_id, info={"message_id": message_id, "sender": sender.address})

    def close(self) -> None:
        """End every idle SMTP session with ``QUIT``; a later send opens a new one."""
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            _quit(smtp)

    # ------------------------------------------------------------ sessions

    def _checkout(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                smtp = self._idle.pop() if self._idle else None
            if smtp is None:
                return self._open()
            if _alive(smtp):
                return smtp
            log.debug("smtp_session_closed_by_server", host=self.config.host, port=self.config.port)
            smtp.close()

    def _checkin(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(smtp)

    def _open(self) -> smtplib.SMTP:
        config = self.config
        smtp: smtplib.SMTP
        try:
            if config.security == "ssl":
                smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        except (smtplib.SMTPException, OSError) as e:
            raise self._failure(e, stage="connect") from None
        stage = "connect"
        try:
            if config.security == "starttls":
                stage = "STARTTLS"
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise PermanentDeliveryError(f"{self._where()} does not offer STARTTLS, which security='starttls' "
                                                 "requires (use security='none' only for a trusted local relay)",
                                                 reason="provider_tls")
                smtp.starttls(context=self._context())
            if config.username:
                stage = "AUTH"
                _login(smtp, config.username, self.password)
        except (DeliveryError, smtplib.SMTPException, OSError) as e:
            _quit(smtp)
            raise self._failure(e, stage=stage) from None
        log.debug("smtp_connected", host=config.host, port=config.port, security=config.security)
        return smtp

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self.config.ca_file or None)
        return self._tls

    # ------------------------------------------------------------ failures

    def _where(self) -> str:
        return f"SMTP server {self.config.host}:{self.config.port}"

    def _needs_smtputf8(self, recipient: str, sender: str, error: Exception) -> DeliveryError:
        if not recipient.isascii():
            # PRODUCT §7: a mailbox this server cannot take is an invalid address; the next channel is tried
            return PermanentDeliveryError(f"{self._where()} does not offer SMTPUTF8, which the non-ASCII mailbox "
                                          f"{recipient!r} needs", reason="invalid_address", details={"error": str(error)})
        return PermanentDeliveryError(f"{self._where()} does not offer SMTPUTF8, which the non-ASCII sender "
                                      f"{sender!r} needs (channels.email.sender)", reason="provider_rejected",
                                      details={"error": str(error)})

    def _failure(self, error: Exception, *, stage: str) -> DeliveryError:
        where, detail = self._where(), _describe(error)
        if isinstance(error, DeliveryError):
            return error
        if isinstance(error, smtplib.SMTPAuthenticationError) or (stage == "AUTH" and isinstance(error, smtplib.SMTPNotSupportedError)):
            code = getattr(error, "smtp_code", 0)
            if 400 <= code < 500:
                return TransientDeliveryError(f"{where} could not check the login now: {detail}",
                                              reason="provider_unavailable", details={"code": code})
            return PermanentDeliveryError(f"{where} refused the login of {self.config.username!r}: {detail} "
                                          "(check username and password, or $TIDINGS_SMTP_PASSWORD)",
                                          reason="provider_auth", details={"code": code})
        if isinstance(error, smtplib.SMTPResponseException):
            return _refused(error.smtp_code, error.smtp_error, stage=stage)
        if isinstance(error, ssl.SSLCertVerificationError):
            return PermanentDeliveryError(f"{where}: the certificate cannot be verified ({error.verify_message}); "
                                          "trust its CA with ca_file", reason="provider_tls", details={"error": detail})
        if isinstance(error, ssl.SSLError) and error.reason == "WRONG_VERSION_NUMBER":
            return PermanentDeliveryError(f"{where} does not speak TLS on this port (security={self.config.security!r}): "
                                          "use security='starttls', or the implicit-TLS port (usually 465)",
                                          reason="provider_tls", details={"error": detail})
        return TransientDeliveryError(f"{where}: {stage} failed: {detail}", reason="provider_unavailable",
                                      details={"error": detail})


def _refused(code: int, reply: bytes | str, *, stage: str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    details = {"code": code, "reply": text, "stage": stage}
    if 400 <= code < 500:
        return TransientDeliveryError(f"the SMTP server deferred {stage}: {code} {text}",
                                      reason="provider_unavailable", details=details)
    if stage == "RCPT TO" and code in INVALID_ADDRESS_CODES:
        return PermanentDeliveryError(f"the SMTP server refused the recipient: {code} {text}",
                                      reason="invalid_address", details=details)
    if code >= 500:
        return PermanentDeliveryError(f"the SMTP server refused {stage}: {code} {text}",
                                      reason="provider_rejected", details=details)
    return TransientDeliveryError(f"the SMTP server answered {stage} with {code} {text}",
                                  reason="provider_unavailable", details=details)


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        smtp.login(username, password)
        return
    # smtplib sends credentials as ASCII only; AUTH PLAIN carries UTF-8 (RFC 4616)
    smtp.ehlo_or_helo_if_needed()
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH PLAIN, which a non-ASCII username or password needs")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
