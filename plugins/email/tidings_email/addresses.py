"""E-mail addresses: a contact's address for the channel, and the mailboxes of the settings.

Only the syntax is checked (``email-validator`` with ``check_deliverability=False``): a DNS
lookup per recipient would make channel selection slow and flaky, and a mailbox that does not
exist is reported by the SMTP server anyway (``550``, a permanent ``invalid_address``).
"""

from __future__ import annotations

import functools
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from attrs import frozen
from email_validator import EmailNotValidError, validate_email

if TYPE_CHECKING:
    from tidings.models import Contact

# what ends a header line somewhere: CR and LF for SMTP, the rest for str.splitlines(), which
# the email package uses on header values; NUL is never valid in a header
LINE_BREAKS = frozenset("\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def has_line_break(value: str) -> bool:
    """Whether `value` holds a character that could end a header line (and so inject a header)."""
    return any(c in LINE_BREAKS for c in value)


@functools.lru_cache(maxsize=8192)   # a pure function of a string, asked for every message to an address
def normalise(address: str | None) -> str | None:
    """`address` with its domain lower-cased and in Unicode NFC, or None when its syntax is not valid.

    Args:
        address: an addr-spec as the host platform has it (``Ola@Example.COM``); no display name.
    """
    if not address or not address.strip() or has_line_break(address):
        return None
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def ascii_address(address: str) -> str:
    """`address` as SMTP without SMTPUTF8 needs it: an internationalised domain in its ``xn--`` form.

    A non-ASCII local part has no ASCII form; it is returned unchanged, and sending it needs a
    server that offers SMTPUTF8.
    """
    try:
        return validate_email(address, check_deliverability=False).ascii_email or address
    except EmailNotValidError:
        return address


def email_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's e-mail, normalised, or ``()`` when there is no valid one.

    Args:
        contact: the recipient.
        settings: the structured `EmailConfig`; no setting changes which addresses are valid.
    """
    address = normalise(contact.email)
    return (address,) if address else ()


@frozen
class Mailbox:
    """A display name and an address: ``Salon Ola <hello@salon.example>``."""

    name: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Mailbox:
        """Read ``Name <addr>`` or a bare ``addr``.

        Raises:
            ValueError: naming the value, when it holds a line break, more than one address, or an
                address whose syntax is not valid.
        """
        text = value.strip()
        if has_line_break(value):
            raise ValueError(f"{value!r} contains a line break")
        name, address = parseaddr(text)
        # parseaddr is lenient: it takes the first of a list and ignores trailing junk
        if not address or not (text == address or text.endswith(f"<{address}>")):
            raise ValueError(f"{value!r} is not one mailbox: write 'Name <address@example.com>' or 'address@example.com'")
        normalised = normalise(address)
        if normalised is None:
            raise ValueError(f"{value!r} does not hold a valid e-mail address ({address!r})")
        return cls(name=name, address=normalised)

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address
