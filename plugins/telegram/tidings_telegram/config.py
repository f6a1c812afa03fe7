"""The settings of the Telegram channel: the ``[channels.telegram]`` table of a tidings configuration.

The core structures the table into `TelegramConfig` with its one converter (unknown keys are
errors); `TelegramConfig` checks its own values and reports every bad one with its key. Secrets
are not required here, because ``simulate`` never connects: `tidings_telegram.plugin.verify`
reports a missing one to ``tidings check``.

Environment:
    ``TIDINGS_TELEGRAM_BOT_TOKEN``: the bot's token from @BotFather, used when ``bot_token`` is empty.
    ``TIDINGS_TELEGRAM_START_SECRET``: the key that signs the ``/start`` links, used when
    ``start_secret`` is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from attrs import field, frozen

from tidings.channel_kit import EnvSecret, check_timeout
from tidings.converter import check_fields
from tidings.durations import Duration

BOT_TOKEN = EnvSecret("channels.telegram", "bot_token", "TIDINGS_TELEGRAM_BOT_TOKEN")
START_SECRET = EnvSecret("channels.telegram", "start_secret", "TIDINGS_TELEGRAM_START_SECRET")

MAX_TTL = timedelta(days=366)   # a link's expiry is written in the token as 32-bit Unix seconds; a year is plenty

# Telegram: 5 to 32 characters, letters, digits and underscores, starting with a letter; a bot's ends in "bot"
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")   # "123456789:AAH..."; it goes in every URL path


def _check_username(value: str) -> str | None:
    name = value.removeprefix("@")
    if not value or (_USERNAME.fullmatch(name) and name.lower().endswith("bot")):
        return None
    return (f"{value!r} is not a bot's username: it is 5 to 32 letters, digits or underscores ending in 'bot', "
            "as @BotFather gave it (like 'SalonAnnaBot')")


def check_token(value: str) -> str | None:
    """Why `value` cannot be a bot token, never quoting it (it is a secret); None when it can."""
    if not value or _TOKEN.fullmatch(value):
        return None
    return "is not a bot token: it is digits, a colon, then letters, digits, _ and -, as @BotFather gives it"


def _check_base_url(value: str) -> str | None:
    if value.startswith(("https://", "http://")):
        return None
    return f"{value!r} is not an http(s) URL: the Bot API's is 'https://api.telegram.org'"


def _check_ttl(value: Duration) -> str | None:
    if timedelta(0) < value.elapsed() <= MAX_TTL:
        return None
    return f"{str(value)!r} is not a time a /start link can be valid for: use one from 1m to a year, like '30d'"


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "base_url": _check_base_url,
    "bot_token": check_token,
    "bot_username": _check_username,
    "start_ttl": _check_ttl,
    "timeout": check_timeout,
}


@frozen
class TelegramConfig:
    """The ``[channels.telegram]`` settings.

    Attributes:
        base_url: the Bot API's root; messages go to ``{base_url}/bot<bot_token>/sendMessage``.
        bot_token: the bot's token from @BotFather; empty means ``$TIDINGS_TELEGRAM_BOT_TOKEN``.
        bot_username: the bot's username, for the ``https://t.me/<bot_username>?start=...`` links.
        start_secret: the key signing those links (at least 32 bytes); empty means
            ``$TIDINGS_TELEGRAM_START_SECRET``.
        start_ttl: how long a ``/start`` link stays valid.
        bold_title: write the ``title`` part in bold above the text (HTML parse mode); false sends
            plain text, the title on a line of its own.
        link_preview: let Telegram show a preview of the first link in the text.
        timeout: seconds to wait for the Bot API before the attempt counts as a transient failure.
    """

    base_url: str = "https://api.telegram.org"
    bot_token: str = field(default="", repr=False)
    bot_username: str = ""
    start_secret: str = field(default="", repr=False)
    start_ttl: Duration = Duration(30, "d")
    bold_title: bool = True
    link_preview: bool = False
    timeout: float = 10.0

    def __attrs_post_init__(self) -> None:
        check_fields(self, _CHECKS, "channels.telegram")   # every bad value at once, each under its own key

    def token(self, environ: Mapping[str, str] | None = None) -> str:
        """The bot token: the configured one, else ``$TIDINGS_TELEGRAM_BOT_TOKEN``, else empty."""
        return BOT_TOKEN.value(self.bot_token, environ)

    def secret(self, environ: Mapping[str, str] | None = None) -> str:
        """The link key: the configured one, else ``$TIDINGS_TELEGRAM_START_SECRET``, else empty."""
        return START_SECRET.value(self.start_secret, environ)

    @property
    def username(self) -> str:
        """The bot's username without a leading ``@``."""
        return self.bot_username.removeprefix("@")
