"""The ``telegram`` entry point of ``tidings.channels``: the Telegram channel (Bot API) and its link global.

The channel reads a contact's ``addresses.telegram`` (`telegram_addresses`), renders a ``title``
and a ``text`` part (the built-in texts of roles ``title`` and ``text``, as an e-mail has them),
and sends them with ``sendMessage`` (`connect`), the title in bold. It also registers the template
global ``telegram_start_url()``, the signed link that lets a client open the bot's chat, so the
host learns the client's chat id (`tidings_telegram.start`). The HTTP client is imported inside
`connect` only, so ``tidings check`` and ``simulate`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tidings import hookimpl
from tidings.errors import Problem, raise_problems
from tidings.links import MIN_SECRET_BYTES
from tidings.plugin_types import Channel, TemplateGlobal, Transport
from tidings_telegram.addresses import telegram_addresses
from tidings_telegram.config import BOT_TOKEN, START_SECRET, TelegramConfig, check_token
from tidings_telegram.start import telegram_start_url


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="telegram", summary="Telegram through the Bot API (sendMessage to the client's chat)",
                  reads=("addresses.telegram",),
                  parts=("title", "text"), config_type=TelegramConfig, addresses=telegram_addresses,
                  connect=connect, verify=verify)


@hookimpl
def tidings_template_globals() -> Iterator[TemplateGlobal]:
    yield TemplateGlobal(name="telegram_start_url", value=telegram_start_url, needs_context=True)


def connect(settings: TelegramConfig | None) -> Transport:
    """The Bot API transport, with one HTTP client reused for every send.

    Raises:
        ConfigError: when the bot token is missing.
    """
    config = settings if settings is not None else TelegramConfig()
    raise_problems(_needed(config))
    from tidings_telegram.transport import TelegramTransport

    return TelegramTransport.connect(config, token=config.token())


def verify(settings: TelegramConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect` or the links, found without any I/O (``tidings check``).

    A bot token that is neither in the table nor in ``$TIDINGS_TELEGRAM_BOT_TOKEN`` is a warning
    (the variable may be set only where the worker runs). With a ``bot_username``, a link secret
    that is missing (a warning, for the same reason) or shorter than 32 bytes (an error) leaves
    ``telegram_start_url()`` empty.
    """
    config = settings if settings is not None else TelegramConfig()
    yield from _needed(config)
    if not config.bot_username:
        return
    secret = config.secret()
    if not secret:
        yield START_SECRET.unset("signs the /start links of telegram_start_url()")
    elif len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        where = START_SECRET.path if config.start_secret else f"${START_SECRET.variable}"
        yield Problem(START_SECRET.path, f"the /start link secret ({where}) is {len(secret.encode('utf-8'))} bytes "
                      f"long; use at least {MIN_SECRET_BYTES} (for example: python -c 'import secrets; "
                      "print(secrets.token_urlsafe(32))')")


def _needed(config: TelegramConfig) -> Iterator[Problem]:
    """What `connect` cannot do without: the bot token."""
    token = config.token()
    if not token:
        yield BOT_TOKEN.unset("is required to send")
    elif (why := check_token(token)) is not None:
        yield Problem(BOT_TOKEN.path if config.bot_token else f"${BOT_TOKEN.variable}", why)
