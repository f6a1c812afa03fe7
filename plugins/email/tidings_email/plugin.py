"""The ``email`` entry point of ``tidings.channels``: registers the e-mail channel.

The channel reads a contact's ``email`` (`email_addresses`), renders a ``subject``, a ``text``
and an ``html`` part (an empty ``html`` means plain text only), and delivers through the SMTP
server ``[channels.email]`` names (`connect`). ``smtplib`` and ``ssl`` are imported inside
`connect` only, so ``tidings check`` and ``simulate`` never load them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from tidings import hookimpl
from tidings.errors import ConfigError, Problem
from tidings.plugin_types import Channel, Transport

from tidings_email.addresses import email_addresses
from tidings_email.config import PASSWORD_ENV, EmailConfig
from tidings_email.mime import describe


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="email", summary="E-mail through SMTP (STARTTLS or TLS), plain text + HTML",
                  parts=("subject", "text", "html"), config_type=EmailConfig, addresses=email_addresses,
                  connect=connect, describe=describe)


def connect(settings: EmailConfig | None) -> Transport:
    """The SMTP transport; it connects at its first send, so a worker starts while the server is down.

    Raises:
        ConfigError: when a setting sending needs is missing or wrong (sender, password, ca_file),
            listing every one.
    """
    from tidings_email.smtp import SmtpTransport

    config = settings if settings is not None else EmailConfig()
    password = config.secret()
    problems = list(_missing(config, password=password))
    if problems:
        raise ConfigError(problems)
    return SmtpTransport(config, password=password)


def _missing(config: EmailConfig, *, password: str) -> Iterator[Problem]:
    where = "channels.email"
    if not config.sender:
        yield Problem(f"{where}.sender", "is required (senders_by_location only overrides it): "
                      "the From mailbox, like 'Salon Ola <hello@salon.example>'")
    if config.username and not password:
        yield Problem(f"{where}.password", f"is required with username {config.username!r} (or set ${PASSWORD_ENV})")
    if config.ca_file and not os.path.isfile(config.ca_file):
        yield Problem(f"{where}.ca_file", f"{config.ca_file!r} is not a file: give a PEM file of CA certificates")
