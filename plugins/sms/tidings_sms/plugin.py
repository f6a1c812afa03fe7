"""The ``sms`` entry point of ``tidings.channels``: registers the SMS channel.

The channel reads a contact's ``phone`` (`sms_addresses`) in the region of the subject's location
(`sms_settings_at`), renders one ``text`` part, transliterates it at send time when
``transliterate = true`` (`prepare`), reports its encoding and segment count (`describe`), warns
``tidings check`` of locations where national numbers cannot be read (`check_regions`), and
delivers through the provider ``[channels.sms]`` names (`connect`). The HTTP machinery is
imported inside `connect` only, so ``tidings check`` and ``simulate`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterator
from tidings import hookimpl
from tidings.channel_kit import missing
from tidings.errors import Problem, raise_problems
from tidings.plugin_types import Channel, Transport
from tidings_sms.addresses import check_regions, sms_addresses, sms_settings_at
from tidings_sms.config import AUTH_TOKEN, SmsConfig
from tidings_sms.transliterate import describe, prepare


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="sms", summary="SMS through a Twilio-style or JSON HTTP provider API, with segment counting",
                  reads=("phone",),
                  parts=("text",), roles={"text": "short"}, config_type=SmsConfig, addresses=sms_addresses,
                  connect=connect, describe=describe, locate=sms_settings_at, prepare=prepare, check=check_regions,
                  verify=verify)


def connect(settings: SmsConfig | None) -> Transport:
    """The transport of the configured provider, with one HTTP client reused for every send.

    Raises:
        ConfigError: when a setting the provider needs is missing (credentials, sender, url),
            listing every one that `verify` finds, its warnings included.
    """
    config = settings if settings is not None else SmsConfig()
    raise_problems(verify(config))
    token = config.secret()
    transport: Transport
    if config.provider == "twilio":
        from tidings_sms.twilio import TwilioTransport

        transport = TwilioTransport.connect(config, token=token)
    else:
        from tidings_sms.json_api import JsonApiTransport

        transport = JsonApiTransport.connect(config, token=token)
    return transport


def verify(settings: SmsConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect`, found without any I/O (``tidings check``).

    A setting missing from the table is an error. A secret that is neither in the table nor in
    ``$TIDINGS_SMS_AUTH_TOKEN`` is a warning: the variable may be set only where the worker runs.
    """
    config = settings if settings is not None else SmsConfig()
    token = config.secret()
    if config.provider == "twilio":
        yield from missing(config, "channels.sms", {"account_sid": "is required by the twilio provider"})
        if not token:
            yield AUTH_TOKEN.unset("is required by the twilio provider")
        if not config.messaging_service_sid:
            yield from missing(config, "channels.sms",
                               {"sender": "is required by the twilio provider unless messaging_service_sid is set"})
    else:
        yield from missing(config, "channels.sms", {"url": "is required by the json provider"})
        if config.url.strip() and not token and any("{auth_token}" in value for value in config.headers.values()):
            yield AUTH_TOKEN.unset("is used by headers")
