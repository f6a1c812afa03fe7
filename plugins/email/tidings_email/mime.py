"""The MIME message of one e-mail: headers that no input can break, parts, a stable Message-ID.

Every header line is written by `tidings_email.headers` and stored with ``set_raw``: a value with a
line break of any kind is refused (``reason="header_injection"``) before any connection is made,
text that looks like an RFC 2047 encoded-word is encoded rather than passed on as one, and long
non-ASCII subjects are folded without losing a space. The email package builds the bodies only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from tidings.errors import PermanentDeliveryError

from tidings_email import headers
from tidings_email.addresses import Mailbox, ascii_address, normalise

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage

IDEMPOTENCY_HEADER = headers.IDEMPOTENCY_HEADER


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
    ``text/plain`` part. Bodies are UTF-8 in quoted-printable, so no server needs 8BITMIME; the
    headers are written by `tidings_email.headers` (RFC 2047 encoded-words where a value is not
    plain ASCII). Only a non-ASCII mailbox needs a server that offers SMTPUTF8.

    Args:
        message: the rendered message; ``to`` is its recipient's address.
        sender: the ``From`` mailbox (and envelope sender).
        idempotency_key: the key the core gives every attempt of this message.
        date: the ``Date`` (aware), written in UTC.
        reply_to: the ``Reply-To`` mailbox, if any.
        message_id_domain: the right-hand side of ``Message-ID``; empty means the sender's domain.

    Raises:
        PermanentDeliveryError: ``header_injection`` when a header value holds a line break of
            any kind (see `tidings_email.headers`);
            ``invalid_address`` when ``to`` is not a valid address; ``empty_message`` when both
            bodies are empty.
    """
    subject = message.parts.get("subject", "")
    name = message.recipient.name if message.recipient is not None else ""
    for header, value in [("Subject", subject), ("To", name), ("To", message.to), ("From", str(sender)),
                          ("Reply-To", str(reply_to or "")), (headers.IDEMPOTENCY_HEADER, idempotency_key),
                          ("Message-ID", message_id_domain), ("Content-Language", message.locale or "")]:
        headers.refuse_line_breaks(header, value)   # every value first, so nothing else hides an injection
    to = normalise(message.to)
    if to is None:
        raise PermanentDeliveryError(f"{message.to!r} is not a valid e-mail address", reason="invalid_address")
    text, html = message.parts.get("text", ""), message.parts.get("html", "")
    if not text and not html:
        raise PermanentDeliveryError(f"the e-mail of rule {message.rule!r} has neither a text nor an html body",
                                     reason="empty_message")
    domain = message_id_domain or ascii_address(sender.address).rpartition("@")[2]
    lines = [
        # an internationalised domain goes out in its xn-- form, so no SMTPUTF8 is needed for it; a
        # non-ASCII mailbox stays as it is and needs a server that offers SMTPUTF8 (see smtp.py)
        ("From", headers.mailbox("From", sender.name, ascii_address(sender.address))),
        ("To", headers.mailbox("To", name, ascii_address(to))),
        *([("Reply-To", headers.mailbox("Reply-To", reply_to.name, ascii_address(reply_to.address)))] if reply_to else []),
        ("Subject", headers.unstructured("Subject", subject)),
        ("Date", format_datetime(date.astimezone(UTC))),
        ("Message-ID", headers.token("Message-ID", message_id(idempotency_key, domain))),
        # RFC 3834: keeps vacation responders from answering an automatic message
        ("Auto-Submitted", "auto-generated"),
        (headers.IDEMPOTENCY_HEADER, headers.token(headers.IDEMPOTENCY_HEADER, idempotency_key)),
    ]
    email = EmailMessage(policy=headers.POLICY)
    for header, value in lines:
        email.set_raw(header, value)
    if text:
        email.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if html:
            email.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    else:
        email.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after the bodies: set_content drops every Content-* header already there
    language = headers.language_tag(message.locale) if message.locale else None
    if language:   # a locale that is no language tag is left out rather than written
        email.set_raw("Content-Language", language)
    return email
