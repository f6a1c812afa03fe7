"""The ``whatsapp`` entry point of ``tidings.channels``: registers the WhatsApp channel (Business Cloud API).

The channel reads a contact's ``addresses.whatsapp`` or ``phone`` (`whatsapp_addresses`) in the
region of the subject's location (`settings_at`), renders one ``text`` part (role ``short``: the
whole message in one short text, as an SMS has it), and delivers through the Cloud API
(`connect`): free text inside the client's customer-service window, an approved template filled
with the text outside it (`tidings_whatsapp.messages`).
The HTTP client is imported inside `connect` only, so ``tidings check`` and ``simulate`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tidings import hookimpl
from tidings.channel_kit import missing
from tidings.errors import Problem, raise_problems
from tidings.plugin_types import Channel, Transport
from tidings_whatsapp.addresses import check_regions, settings_at, whatsapp_addresses
from tidings_whatsapp.config import ACCESS_TOKEN, WhatsAppConfig


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="whatsapp", summary="WhatsApp through the Business Cloud API: approved templates, "
                                           "free text inside the 24-hour window",
                  reads=("addresses.whatsapp", "phone"),
                  parts=("text",), roles={"text": "short"}, config_type=WhatsAppConfig, addresses=whatsapp_addresses,
                  connect=connect, locate=settings_at, check=check_regions, verify=verify)


def connect(settings: WhatsAppConfig | None) -> Transport:
    """The Cloud API transport, with one HTTP client reused for every send.

    Raises:
        ConfigError: when ``phone_number_id`` or the access token is missing (every problem `verify`
            finds, its warnings included).
    """
    config = settings if settings is not None else WhatsAppConfig()
    raise_problems(_needed(config))
    from tidings_whatsapp.transport import WhatsAppTransport

    return WhatsAppTransport.connect(config, token=config.secret())


def verify(settings: WhatsAppConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect`, found without any I/O (``tidings check``).

    A missing ``phone_number_id`` is an error; an access token that is neither in the table nor in
    ``$TIDINGS_WHATSAPP_ACCESS_TOKEN`` is a warning (the variable may be set only where the worker
    runs). A channel with no template at all is a warning too: it can send only to clients whose
    window the host says is open.
    """
    config = settings if settings is not None else WhatsAppConfig()
    yield from _needed(config)
    if not config.templates and config.default_template is None:
        yield Problem("channels.whatsapp.templates", "no approved template is configured (templates or "
                      "default_template): only clients whose 24-hour window the host says is open can get a "
                      "WhatsApp message, every other one fails as no_template and goes to the rule's next channel",
                      warning=True)


def _needed(config: WhatsAppConfig) -> Iterator[Problem]:
    """What `connect` cannot do without: the phone number id, and the access token."""
    yield from missing(config, "channels.whatsapp",
                       {"phone_number_id": "is required: the business phone number's id from WhatsApp Manager"})
    if not config.secret():
        yield ACCESS_TOKEN.unset("is required to send")
