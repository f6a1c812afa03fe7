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
from tidings.channel_kit import missing
from tidings.errors import Problem, raise_problems
from tidings.plugin_types import Channel, Transport

from tidings_email.addresses import email_addresses
from tidings_email.config import PASSWORD, EmailConfig
from tidings_email.mime import describe


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="email", summary="E-mail through SMTP (STARTTLS or TLS), plain text + HTML",
                  reads=("email",),
                  parts=("subject", "text", "html"), roles={"subject": "title"}, config_type=EmailConfig,
                  addresses=email_addresses, connect=connect, describe=describe, verify=verify)


def connect(settings: EmailConfig | None) -> Transport:
    """The SMTP transport; it connects at its first send, so a worker starts while the server is down.

    Raises:
        ConfigError: when a setting sending needs is missing or wrong (host, sender, password,
            ca_file), listing every one that `verify` finds, its warnings included.
    """
    from tidings_email.smtp import SmtpTransport

    config = settings if settings is not None else EmailConfig()
    raise_problems(verify(config))
    return SmtpTransport(config, password=config.secret())


def verify(settings: EmailConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect`, found without connecting (``tidings check``).

    A setting missing from the table is an error. What this machine lacks but the worker's may
    have, the password from ``$TIDINGS_SMTP_PASSWORD`` and the ``ca_file``, is a warning.
    """
    config = settings if settings is not None else EmailConfig()
    yield from missing(config, "channels.email", {
        "host": "is required: the SMTP server's name or address, like 'smtp.salon.example'",
        "sender": "is required (senders_by_location only overrides it): the From mailbox, like "
                  "'Salon Ola <hello@salon.example>'"})
    if config.username and not config.secret():
        yield PASSWORD.unset(f"is required with username {config.username!r}")
    if config.ca_file and not os.path.isfile(config.ca_file):
        yield Problem("channels.email.ca_file", f"{config.ca_file!r} is not a file here: give a PEM file of CA certificates "
                      "that exists where the worker runs", warning=True)
