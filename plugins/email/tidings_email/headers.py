"""The header lines of one e-mail, written so that no value can add a header or a body (PRODUCT §7).

Every value our headers carry comes from someone else: the subject from a template, the ``To``
name from the host platform (often typed by the client), the ``From`` and ``Reply-To`` names from
the deployer's settings. Three rules keep each of them inside its own header line:

1. **A line break of any kind is refused** (``reason="header_injection"``): CR and LF, and every
   other character `str.splitlines` breaks on (U+2028, U+2029, NEL, VT, FF, the file separators),
   which the email package treats as line ends (`tidings_email.addresses.LINE_BREAKS`).
2. **A value is text, never RFC 2047 markup.** Text that could read as an encoded-word
   (``=?utf-8?q?Ola=0D=0AReply-To:...?=``) is itself encoded, so every reader shows it as it was
   written and never decodes its ``=0D=0A`` into a line break. Handing such text to the email
   package is not safe: Python 3.11.7 (and other releases before the upstream fix) decodes
   encoded-words inside the quoted display name it writes for ``To``, and writes the decoded line
   breaks out raw: the client's name became a ``Reply-To`` header and a body.
3. **We fold the values ourselves**, with `email.header.Header`, whose encoded-words carry every
   space of the text inside them. ``policy.SMTP``'s folder, when it joins an encoded-word with the
   next word, drops the space between them (two built-in Russian subjects arrived as
   ``перенесенана`` and ``10мар.``). The folded lines are stored with ``set_raw`` under a policy
   that never refolds them (`POLICY`), so what is written here is what goes on the wire.

Plain values (printable ASCII that cannot start an encoded-word) are written as they are.
"""

from __future__ import annotations

import re
from email import policy
from email.charset import Charset
from email.header import Header

from tidings.errors import PermanentDeliveryError

from tidings_email.addresses import has_line_break

IDEMPOTENCY_HEADER = "X-Tidings-Idempotency-Key"
# the longest line we write (RFC 5322 §2.1.1: 78 characters, the CRLF not counted)
MAX_LINE = 78
LINESEP = "\r\n"
# the policy of every message: SMTP line ends, and a header stored with set_raw is never refolded
POLICY = policy.SMTP.clone(refold_source="none")

# RFC 5322 atext without "=" and "?", the two characters an encoded-word starts with
_ATOM = r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+"
_PHRASE = re.compile(rf"{_ATOM}(?: {_ATOM})*")
# a value that is a single token: a message id, a key, a language tag
_TOKEN = re.compile(r"[\x21-\x7e]+")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_UTF8 = Charset("utf-8")


def refuse_line_breaks(header: str, value: str) -> None:
    """Raise when `value` could end the line of `header` or cannot be written at all.

    Raises:
        PermanentDeliveryError: ``header_injection`` for a line break of any kind, naming the
            header in ``details``; ``invalid_header`` for text that is not Unicode (a lone surrogate
            from JSON), which no encoding can carry.
    """
    if has_line_break(value) or len(value.splitlines()) > 1:
        raise PermanentDeliveryError(f"the {header} header would contain a line break: {value!r}",
                                     reason="header_injection", details={"header": header})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PermanentDeliveryError(f"the {header} header holds text that is not valid Unicode: {value!r}",
                                     reason="invalid_header", details={"header": header}) from None


def is_plain(value: str) -> bool:
    """Whether `value` can be written as it is: printable ASCII, no encoded-word opener, no outer space."""
    return value.isascii() and value.isprintable() and "=?" not in value and value == value.strip()


def unstructured(header: str, value: str) -> str:
    """The folded value of a text header (``Subject``), which every reader decodes back to `value`.

    Raises:
        PermanentDeliveryError: see `refuse_line_breaks`.
    """
    refuse_line_breaks(header, value)
    return _fold(header, value, charset="us-ascii" if is_plain(value) else "utf-8")


def mailbox(header: str, name: str, address: str) -> str:
    """The folded value of an address header: ``Name <address>``, or the bare address without a name.

    Args:
        header: ``From``, ``To`` or ``Reply-To``.
        name: the display name, any text without line breaks.
        address: a normalised addr-spec (`tidings_email.addresses.normalise`).

    Raises:
        PermanentDeliveryError: see `refuse_line_breaks`; ``header_injection`` also when the
            address is not one token.
    """
    refuse_line_breaks(header, name)
    refuse_line_breaks(header, address)
    if not address or "=?" in address or any(c.isspace() or c in '<>"(),;' for c in address) or not address.isprintable():
        # a normalised address never holds these; an encoded-word opener could be decoded by a reader
        raise PermanentDeliveryError(f"the {header} header would not hold one address: {address!r}",
                                     reason="header_injection", details={"header": header})
    # readers take a run of spaces in a display name as one (a phrase, RFC 5322 §3.2.5): write it so
    name = " ".join(name.split())
    if not name:
        return address
    # a display name is a phrase of atoms or one encoded-word (RFC 2047 §5(3)), never a quoted string:
    # that is where Python 3.11.7's parser decodes encoded-words it must leave alone
    display = name if _PHRASE.fullmatch(name) else _UTF8.header_encode(name)
    separator = " " if len(header) + 2 + len(display) + 3 + len(address) <= MAX_LINE else LINESEP + " "
    return f"{display}{separator}<{address}>"


def token(header: str, value: str) -> str:
    """`value`, checked to be one printable ASCII token (a message id, a key) that cannot be markup.

    Raises:
        PermanentDeliveryError: ``header_injection`` for anything else.
    """
    refuse_line_breaks(header, value)
    if not _TOKEN.fullmatch(value) or "=?" in value:
        raise PermanentDeliveryError(f"the {header} header would not be one token: {value!r}",
                                     reason="header_injection", details={"header": header})
    return value


def language_tag(value: str) -> str | None:
    """`value` as a ``Content-Language`` tag (``pl_PL`` -> ``pl-PL``), or None when it is not a language tag."""
    refuse_line_breaks("Content-Language", value)
    tag = value.replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def _fold(header: str, value: str, *, charset: str) -> str:
    if not value:
        return ""
    folded = Header(value, charset, maxlinelen=MAX_LINE, header_name=header).encode(splitchars=" ", linesep=LINESEP)
    return str(folded)
