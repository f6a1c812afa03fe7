"""The SMS address of a contact: its phone number, parsed, validated and written in E.164.

A number is an address only if it can receive an SMS (PRODUCT §6): `phonenumbers` tells a
number's type from its country's numbering plan, and landlines, toll-free, premium-rate and
shared-cost numbers (and pagers, UANs and voicemail access numbers) are refused as
``not_mobile``. A number the plan cannot place (``FIXED_LINE_OR_MOBILE``: the US and Canada mix
both in one range), a VoIP or a personal number may take an SMS, so it is kept: the provider,
not a guess of ours, refuses the ones that cannot, and the next usable channel is tried then.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import phonenumbers
from phonenumbers import PhoneNumberType

from tidings.errors import Problem
from tidings.plugin_types import NoAddress

if TYPE_CHECKING:
    from tidings.config import Location
    from tidings.models import Contact

# why a contact has no SMS address: the detail of `invalid_address`
NO_PHONE = "no_phone"               # no phone number at all
NOT_A_NUMBER = "not_a_number"       # cannot be parsed as a phone number ("call me", "123")
NO_REGION = "no_region"             # a national number (no +) where no region is known to read it in
INVALID_NUMBER = "invalid_number"   # parsed, but not a number of its country's plan (too short, unassigned)
NOT_MOBILE = "not_mobile"           # a valid number that cannot receive an SMS (landline, toll-free, ...)

# the types that cannot receive an SMS; every other type of a valid number is kept
NOT_MOBILE_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
})


@functools.lru_cache(maxsize=8192)   # a pure function of two strings, asked for every message to a number
def parse(phone: str | None, region: str | None = None) -> str | NoAddress:
    """`phone` in E.164 (``+48600100200``), or `NoAddress` saying why it cannot take an SMS.

    Args:
        phone: the number as the host platform has it: ``+48 600 100 200``, ``600-100-200``, ``0048…``.
        region: the ISO 3166 region for national numbers; without one, only ``+``-prefixed numbers parse.
    """
    if not phone or not phone.strip():
        return NoAddress(NO_PHONE)
    try:
        number = phonenumbers.parse(phone, region or None)
    except phonenumbers.NumberParseException as e:
        missing_region = e.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and not region
        return NoAddress(NO_REGION if missing_region and not phone.strip().startswith("+") else NOT_A_NUMBER)
    if not phonenumbers.is_valid_number(number):
        return NoAddress(INVALID_NUMBER)
    if phonenumbers.number_type(number) in NOT_MOBILE_TYPES:
        return NoAddress(NOT_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(phone: str | None, region: str | None = None) -> str | None:
    """`phone` in E.164, or None when it is missing, unparsable, not valid or cannot receive an SMS."""
    found = parse(phone, region)
    return found if isinstance(found, str) else None


def sms_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's phone in E.164, or `NoAddress` saying why there is none.

    Args:
        contact: the recipient.
        settings: the structured `SmsConfig` (its ``default_region`` reads national numbers), or None.
    """
    region = getattr(settings, "default_region", "") or None
    found = parse(contact.phone, region)
    return (found,) if isinstance(found, str) else found


def region_at(settings: Any, location: Location) -> str:
    """The region national numbers are read in at `location` (PRODUCT §6), or "" when none can be known.

    The location's own ``region`` wins; then the country of its time zone (``Europe/Kyiv`` and the
    legacy ``Europe/Kiev`` → ``UA``; a location without a zone is in ``[tidings].timezone``); then
    ``[channels.sms].default_region``. The zone comes before the setting because the setting is one
    value for the whole configuration (``tidings init`` writes ``"PL"``), while the zone is where the
    salon is: a Kyiv salon's ``067 111 2233`` is ``+380671112233`` whatever the default says.
    """
    return location.region or location.zone_region() or getattr(settings, "default_region", "")


# (id of the settings, region) -> (those settings, kept so that their id is not reused; them in that region)
_LOCATED: dict[tuple[int, str], tuple[Any, Any]] = {}


@functools.cache
def _default_settings() -> Any:
    from tidings_sms.config import SmsConfig
    return SmsConfig()


def sms_settings_at(settings: Any, location: Location) -> Any:
    """The channel's `locate`: the settings with ``default_region`` as it applies at `location` (`region_at`).

    Settings are frozen, so the settings of each region are made once (a worker asks for every message).
    """
    config = settings if settings is not None else _default_settings()
    region = region_at(config, location)
    if region == config.default_region:
        return config
    found = _LOCATED.get((id(config), region))
    if found is None or found[0] is not config:
        if len(_LOCATED) > 1024:
            _LOCATED.clear()
        found = _LOCATED[(id(config), region)] = (config, attrs.evolve(config, default_region=region))
    return found[1]


def check_regions(settings: Any, locations: Sequence[Location]) -> Iterator[Problem]:
    """The channel's `check`: a warning for each location where national numbers cannot be read.

    Args:
        settings: the structured `SmsConfig`, or None.
        locations: the configured locations, or the default one when none is configured.
    """
    for location in locations:
        if region_at(settings, location):
            continue
        zone = location.timezone.key if location.timezone is not None else "UTC"
        where, fix = ((f"locations.{location.id}", "set this location's region (like \"PL\")") if location.id else
                      ("tidings.timezone", "use a country's zone (like \"Europe/Warsaw\")"))
        yield Problem(where, f"national phone numbers (without +) cannot be read here: the time zone {zone!r} "
                             f"belongs to no country; {fix} or set [channels.sms].default_region, or every "
                             "such number is skipped as invalid_address (no_region)", warning=True)
