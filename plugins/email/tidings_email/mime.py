"""The MIME message of one e-mail: headers checked for injection, parts, a stable Message-ID.

Every header value is checked for line breaks before the message is built, so a subject or a
client name carrying ``\\r\\n`` is refused (``reason="header_injection"``) before any connection
is made, rather than relying on the email package to raise or fold it away.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from tidings.errors import PermanentDeliveryError

from tidings_email.addresses import Mailbox, ascii_address, has_line_break, normalise

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage

IDEMPOTENCY_HEADER = "X-Tidings-Idempotency-Key"


def describe(parts: Mapping[str, str]) -> Mapping[str, Any]:
    """The channel's `describe`: which bodies a message with these parts carries.

    Returns:
        ``{"format": "text+html"}`` (multipart/alternative), ``{"format": "text"}`` or ``{"format": "html"}``.
    """
    text, html = bool(parts.get("text")), bool(parts.get("html"))
    return {"format": "text+html" if text and html else "html" if html else "text"}


def message_id(idempotency_key: str, domain: str) -> str:
    """The ``Message-ID`` of the message with this key: the same on every retry, so duplicates are recognisable."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_message(message: RenderedMessage, *, sender: Mailbox, idempotency_key: str,
                  date: datetime, reply_to: Mailbox | None = None, message_id_domain: str = "") -> EmailMessage:
    """The `EmailMessage` for `message`, ready for ``smtplib.SMTP.send_message``.

    The text and html parts become ``multipart/alternative``; an empty ``html`` means a single
    ``text/plain`` part. Bodies are UTF-8 in quoted-printable, so no server needs 8BITMIME, and
    the subject and display names are RFC 2047 encoded by the SMTP policy.

    Args:
        message: the rendered message; ``to`` is its recipient's address.
        sender: the ``From`` mailbox (and envelope sender).
        idempotency_key: the key the core gives every attempt of this message.
        date: the ``Date`` (aware), written in UTC.
        reply_to: the ``Reply-To`` mailbox, if any.
        message_id_domain: the right-hand side of ``Message-ID``; empty means the sender's domain.

    Raises:
        PermanentDeliveryError: ``header_injection`` when a header value holds a line break;
            ``invalid_address`` when ``to`` is not a valid address; ``empty_message`` when both
            bodies are empty.
    """
    subject = message.parts.get("subject", "")
    name = message.recipient.name if message.recipient is not None else ""
    _refuse_line_breaks([("Subject", subject), ("To", name), ("To", message.to), ("From", str(sender)),
                         ("Reply-To", str(reply_to or "")), (IDEMPOTENCY_HEADER, idempotency_key),
                         ("Message-ID", message_id_domain), ("Content-Language", message.locale or "")])
    to = normalise(message.to)
    if to is None:
        raise PermanentDeliveryError(f"{message.to!r} is not a valid e-mail address", reason="invalid_address")
    text, html = message.parts.get("text", ""), message.parts.get("html", "")
    if not text and not html:
        raise PermanentDeliveryError(f"the e-mail of rule {message.rule!r} has neither a text nor an html body",
                                     reason="empty_message")

    email = EmailMessage(policy=policy.SMTP)
    email["From"] = _address(sender.name, sender.address)
    email["To"] = _address(name, to)
    if reply_to is not None:
        email["Reply-To"] = _address(reply_to.name, reply_to.address)
    email["Subject"] = subject
    email["Date"] = format_datetime(date.astimezone(UTC))
    domain = message_id_domain or ascii_address(sender.address).rpartition("@")[2]
    email["Message-ID"] = message_id(idempotency_key, domain)
    # RFC 3834: keeps vacation responders from answering an automatic message
    email["Auto-Submitted"] = "auto-generated"
    email[IDEMPOTENCY_HEADER] = idempotency_key
    if text:
        email.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if html:
            email.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    else:
        email.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after the bodies: set_content drops every Content-* header already there
    if message.locale:
        email["Content-Language"] = message.locale.replace("_", "-")
    return email


def _refuse_line_breaks(headers: list[tuple[str, str]]) -> None:
    for header, value in headers:
        if has_line_break(value):
            raise PermanentDeliveryError(f"the {header} header would contain a line break: {value!r}",
                                         reason="header_injection", details={"header": header})


def _address(name: str, address: str) -> Address:
    # an internationalised domain goes out in its xn-- form, so no SMTPUTF8 is needed for it
    return Address(display_name=name, addr_spec=ascii_address(address))
