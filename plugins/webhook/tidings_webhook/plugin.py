"""The ``webhook`` entry point of ``tidings.channels``: each message POSTed to the host, signed.

The channel reaches whoever the host knows: a contact's ``addresses.webhook``, else its id
(`webhook_addresses`), a client who consents to ``webhook`` or, for a rule with ``recipient =
"staff"``, the staff member (a CRM task for an administrator to call the client). It renders a
``title`` and a ``text`` part (the built-in texts of those roles, as an e-mail has them) and
POSTs them with the message's context as a Standard Webhooks payload (`connect`). The HTTP client
is imported inside `connect` only, so ``tidings check`` and ``simulate`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tidings import hookimpl
from tidings.errors import Problem, raise_problems
from tidings.plugin_types import Channel, Transport
from tidings_webhook.addresses import webhook_addresses
from tidings_webhook.config import SECRET, WebhookConfig, check_secret
from tidings_webhook.signing import secret_key


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="webhook", summary="a signed POST to the host (Standard Webhooks), e.g. a CRM task",
                  parts=("title", "text"), config_type=WebhookConfig, addresses=webhook_addresses,
                  connect=connect, verify=verify)


def connect(settings: WebhookConfig | None) -> Transport:
    """The webhook transport, with one HTTP client reused for every send.

    Raises:
        ConfigError: when the URL or the secret is missing, or the secret is malformed.
    """
    config = settings if settings is not None else WebhookConfig()
    raise_problems(_needed(config))
    from tidings_webhook.transport import WebhookTransport

    return WebhookTransport.connect(config, key=secret_key(config.signing_secret()))


def verify(settings: WebhookConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect`, found without any I/O (``tidings check``).

    A missing URL is an error. A secret that is neither in the table nor in
    ``$TIDINGS_WEBHOOK_SECRET`` is a warning (the variable may be set only where the worker runs);
    a malformed one from the environment is an error that does not quote it.
    """
    yield from _needed(settings if settings is not None else WebhookConfig())


def _needed(config: WebhookConfig) -> Iterator[Problem]:
    """What `connect` cannot do without: the URL and a well-formed secret."""
    if not config.url.strip():
        yield Problem("channels.webhook.url", "is required: the host's endpoint every message is POSTed to")
    secret, where = SECRET.source(config.secret)
    if not secret:
        yield SECRET.unset("signs every webhook")
    elif (why := check_secret(secret)) is not None:
        yield Problem(where, why)
