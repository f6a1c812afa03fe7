"""The settings of the push channel: the ``[channels.push]`` table of a tidings configuration.

The core structures the table into `PushConfig` with its one converter (unknown keys are errors);
`PushConfig` itself checks the values and reports every bad one with its key, the value and the
way out. A VAPID key written in the table is parsed here, so ``tidings check`` catches a broken
one; the key is not required at this stage, because ``simulate`` never connects:
`tidings_push.plugin.verify` reports a missing one to ``tidings check``, and `connect` refuses it.

Environment:
    ``TIDINGS_VAPID_PRIVATE_KEY``: the VAPID private key (PEM text, base64url, or a file's path),
    used when ``vapid_private_key`` is empty, so that the configuration file need not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields

VAPID_KEY_ENV = "TIDINGS_VAPID_PRIVATE_KEY"
VAPID_KEY = EnvSecret("channels.push", "vapid_private_key", VAPID_KEY_ENV)
URGENCIES = ("very-low", "low", "normal", "high")   # RFC 8030 §5.3
MAX_TTL = 28 * 24 * 3600   # four weeks: the longest any major push service keeps a message

# RFC 8292 §2.1: the `sub` claim is a mailto: or an https: URI the push service can reach us at
_MAILTO = re.compile(r"mailto:[^@\s/]+@[^@\s/]+")
_HOST = re.compile(r"(localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)")


def _check_subject(value: str) -> str | None:
    if not value:
        return None   # required by `connect`, not by `check`
    if value.startswith("mailto:"):
        domain = value.rpartition("@")[2]
        if _MAILTO.fullmatch(value) and _HOST.fullmatch(domain):
            return None
    elif value.startswith("https://"):
        from urllib.parse import urlsplit

        try:
            host = urlsplit(value).hostname or ""
        except ValueError:
            host = ""
        if _HOST.fullmatch(host) and not any(c.isspace() for c in value):
            return None
    return (f"{value!r} is neither a mailto: address nor an https URL: the push service contacts "
            "you there, e.g. 'mailto:ops@salon.example' or 'https://salon.example/contact'")


def _check_key(value: str) -> str | None:
    if not value:
        return None
    from tidings_push.keys import (
        load_private_key,  # imports cryptography: only when a key is written here
    )

    try:
        load_private_key(value)
    except ValueError as e:
        return str(e)
    return None


def _check_ttl(value: int) -> str | None:
    if isinstance(value, bool) or not 0 <= value <= MAX_TTL:
        return (f"{value!r} is not a number of seconds from 0 to {MAX_TTL} (four weeks): how long the push "
                "service keeps a message for a device that is offline, e.g. 86400 for a day")
    return None


def _check_urgency(value: str) -> str | None:
    if value not in URGENCIES:
        return f"{value!r} is not an urgency (choose one of: {', '.join(URGENCIES)})"
    return None


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "vapid_private_key": _check_key,
    "vapid_subject": _check_subject,
    "ttl": _check_ttl,
    "urgency": _check_urgency,
    "timeout": check_timeout,
}


@frozen
class PushConfig:
    """The ``[channels.push]`` settings.

    Attributes:
        vapid_private_key: the application server's P-256 private key: PEM text, the path of a PEM
            file, or the base64url private scalar (as the JavaScript ``web-push`` library prints it);
            empty means ``$TIDINGS_VAPID_PRIVATE_KEY``. Browsers must subscribe with its public half.
        vapid_subject: how a push service reaches the operator: ``mailto:ops@salon.example`` or an
            ``https://`` URL (the ``sub`` claim of RFC 8292).
        ttl: seconds a push service keeps a message for a device that is offline (``TTL``), from
            0 (deliver now or drop) to four weeks.
        urgency: ``very-low``, ``low``, ``normal`` or ``high`` (the ``Urgency`` header, RFC 8030):
            how eagerly a device on battery wakes for the message.
        timeout: seconds to wait for a push service before the attempt counts as a transient failure.
    """

    vapid_private_key: str = field(default="", repr=False)
    vapid_subject: str = ""
    ttl: int = 86400
    urgency: str = "normal"
    timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.push")   # every bad value at once, each under its own key

    def private_key_source(self, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
        """The VAPID key's text and where it came from (a config key or an environment variable).

        Returns:
            ``(value, where)``: the configured key and ``"channels.push.vapid_private_key"``, else
            ``$TIDINGS_VAPID_PRIVATE_KEY`` and its name, else ``""`` and the config key.
        """
        return VAPID_KEY.source(self.vapid_private_key, environ)
