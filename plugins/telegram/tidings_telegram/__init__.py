"""tidings-telegram: the Telegram channel of tidings, through the Bot API.

The channel itself is registered by :mod:`tidings_telegram.plugin`. A host uses this package to
link its clients to their chats: `start_url` builds the link a client opens the bot's chat with
(templates have it as ``telegram_start_url()``), and `verify_start` reads the client id back out
of the ``/start`` message the bot receives, raising only `tidings.links.LinkError`.
"""

from __future__ import annotations

from tidings.links import LinkError
from tidings_telegram.addresses import telegram_addresses
from tidings_telegram.config import TelegramConfig
from tidings_telegram.start import start_token, start_url, verify_start

__all__ = ["LinkError", "TelegramConfig", "start_token", "start_url", "telegram_addresses", "verify_start"]
