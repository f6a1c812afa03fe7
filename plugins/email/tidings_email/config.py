"""The settings of the e-mail channel: the ``[channels.email]`` table of a tidings configuration.

The core structures the table into `EmailConfig` with its one converter (unknown keys are
errors); the validators here report a bad value with the key, the value and the way out. A
missing sender or password is not an error at this stage, because ``simulate`` never connects:
`tidings_email.plugin.verify` reports it to ``tidings check``, and `connect` refuses it.

Environment:
    ``TIDINGS_SMTP_PASSWORD``: the SMTP password, used when ``password`` is empty, so that the
    configuration file need not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields
from tidings_email.addresses import Mailbox, has_line_break

SECURITY = ("none", "starttls", "ssl")
PASSWORD_ENV = "TIDINGS_SMTP_PASSWORD"
PASSWORD = EnvSecret("channels.email", "password", PASSWORD_ENV)


def _check_security(value: str) -> str | None:
    if value not in SECURITY:
        return (f"{value!r} is not a known security (choose one of: {', '.join(SECURITY)}; "
                "'ssl' is implicit TLS, usually on port 465)")
    return None


def _check_port(value: int) -> str | None:
    if not 0 < value < 65536:
        return f"{value!r} is not a TCP port: use 1 to 65535 (usually 25, 587 with starttls, 465 with ssl)"
    return None


def _check_mailbox(value: str) -> str | None:
    try:
        if value:
            Mailbox.parse(value)
    except ValueError as e:
        return str(e)
    return None


def _check_senders(value: Mapping[str, str]) -> str | None:
    for location, sender in value.items():
        problem = _check_mailbox(sender) or (None if sender else "is empty")
        if problem is not None:
            return f"{location}: {problem}"
    return None


def _check_one_line(value: str) -> str | None:
    return f"{value!r} contains a line break" if has_line_break(value) else None


def _check_domain(value: str) -> str | None:
    # the right-hand side of every Message-ID: one ASCII token, or the header could not be written
    if value and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", value):
        return f"{value!r} is not a domain name in ASCII letters, digits, '.' and '-' (e.g. 'mail.salon.example')"
    return None


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "host": _check_one_line,
    "port": _check_port,
    "security": _check_security,
    "username": _check_one_line,
    "sender": _check_mailbox,
    "reply_to": _check_mailbox,
    "senders_by_location": _check_senders,
    "timeout": check_timeout,
    "message_id_domain": _check_domain,
}


@frozen
class EmailConfig:
    """The ``[channels.email]`` settings.

    Attributes:
        host: the SMTP server.
        port: its port: 25 by default; 587 is usual with ``starttls``, 465 with ``ssl``.
        security: ``"none"`` (plain SMTP), ``"starttls"`` (upgrade required: a server that does not
            offer it is an error, never a silent downgrade) or ``"ssl"`` (implicit TLS).
        username: the login; empty means no AUTH.
        password: the login's password; empty means ``$TIDINGS_SMTP_PASSWORD``.
        sender: the ``From`` mailbox, like ``"Salon Ola <hello@salon.example>"``; its address is also
            the envelope sender.
        reply_to: an optional ``Reply-To`` mailbox.
        senders_by_location: location id -> ``From`` mailbox, overriding ``sender`` for messages
            about that location.
        timeout: seconds to wait for the server before the attempt counts as a transient failure.
        ca_file: a PEM file of CA certificates to trust instead of the system's (a private CA).
        message_id_domain: the right-hand side of ``Message-ID``; empty means the sender's domain.
    """

    host: str = "localhost"
    port: int = 25
    security: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    reply_to: str = ""
    senders_by_location: dict[str, str] = field(factory=dict)
    timeout: float = 10.0
    ca_file: str = ""
    message_id_domain: str = ""

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.email")   # every bad value at once, each under its own key

    def secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The SMTP password: the configured one, else ``$TIDINGS_SMTP_PASSWORD``, else empty."""
        return PASSWORD.value(self.password, environ)

    def sender_for(self, location_id: str | None) -> str:
        """The ``From`` mailbox of a message about `location_id`: its override, else ``sender``."""
        if location_id and location_id in self.senders_by_location:
            return self.senders_by_location[location_id]
        return self.sender
