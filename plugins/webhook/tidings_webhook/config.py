"""The settings of the webhook channel: the ``[channels.webhook]`` table of a tidings configuration.

The core structures the table into `WebhookConfig` with its one converter (unknown keys are
errors); `WebhookConfig` checks its own values and reports every bad one with its key, never
quoting the secret. The secret is not required here, because ``simulate`` never connects:
`tidings_webhook.plugin.verify` reports a missing one to ``tidings check``.

Environment:
    ``TIDINGS_WEBHOOK_SECRET``: the signing secret (``whsec_...``), used when ``secret`` is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields
from tidings_webhook.payload import EVENT_TYPE
from tidings_webhook.signing import SecretError, secret_key

SECRET = EnvSecret("channels.webhook", "secret", "TIDINGS_WEBHOOK_SECRET")

# Standard Webhooks: a full-stop delimited, hierarchical type of [a-zA-Z0-9_] identifiers
_TYPE = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")


def _check_url(value: str) -> str | None:
    if not value or (value.startswith(("https://", "http://")) and len(value) > len("https://")):
        return None
    return f"{value!r} is not an http(s) URL: write the host's endpoint, like 'https://crm.example/hooks/tidings'"


def check_secret(value: str) -> str | None:
    """Why `value` cannot be the signing secret, never quoting it; None when it can (or is empty)."""
    if not value:
        return None
    try:
        secret_key(value)
    except SecretError as e:
        return str(e)
    return None


def _check_type(value: str) -> str | None:
    if _TYPE.fullmatch(value):
        return None
    return (f"{value!r} is not an event type: full-stop delimited names of letters, digits and underscores, "
            "like 'tidings.message'")


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "url": _check_url,
    "secret": check_secret,
    "event_type": _check_type,
    "timeout": check_timeout,
}


@frozen
class WebhookConfig:
    """The ``[channels.webhook]`` settings.

    Attributes:
        url: the host's endpoint every message is POSTed to.
        secret: the Standard Webhooks signing secret, ``whsec_`` and the base64 of 24 to 64 random
            bytes; empty means ``$TIDINGS_WEBHOOK_SECRET``.
        event_type: the payload's ``type``, so a host receiving several kinds of webhook tells these apart.
        timeout: seconds to wait for the host before the attempt counts as a transient failure.
    """

    url: str = ""
    secret: str = field(default="", repr=False)
    event_type: str = EVENT_TYPE
    timeout: float = 15.0

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.webhook")   # every bad value at once, each under its own key

    def signing_secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret: the configured one, else ``$TIDINGS_WEBHOOK_SECRET``, else empty."""
        return SECRET.value(self.secret, environ)
