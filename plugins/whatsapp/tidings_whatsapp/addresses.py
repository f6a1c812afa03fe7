"""The WhatsApp address of a contact: its phone number, in E.164 without the ``+`` (as the Cloud API takes it).

The number is ``addresses.whatsapp`` when the host gives one (a client's WhatsApp number may not
be the phone on file), else the contact's ``phone``. It is parsed with `phonenumbers`, and a
national number (no ``+``) is read in the region of the visit's location (PRODUCT §6): the
location's ``region``, else the country of its time zone, else ``default_region``. Any valid
number is kept, landlines included: WhatsApp accounts can be registered on them, and whether a
number has one only Meta knows (it refuses the others with error 131026, and the next channel is
tried).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import phonenumbers

from tidings.errors import Problem
from tidings.plugin_types import NoAddress

if TYPE_CHECKING:
    from tidings.config import Location
    from tidings.models import Contact

CHANNEL = "whatsapp"

# why a contact has no WhatsApp address: the detail of `invalid_address`
NO_PHONE = "no_phone"               # neither addresses.whatsapp nor a phone
NOT_A_NUMBER = "not_a_number"       # cannot be parsed as a phone number
NO_REGION = "no_region"             # a national number where no region is known to read it in
INVALID_NUMBER = "invalid_number"   # parsed, but not a number of its country's plan


def parse(phone: str | None, region: str | None = None) -> str | NoAddress:
    """`phone` as the Cloud API's ``to`` (``48600100200``), or `NoAddress` saying why it cannot be one.

    Args:
        phone: the number as the host has it: ``+48 600 100 200``, ``600-100-200``, ``0048…``.
        region: the ISO 3166 region for national numbers; without one only ``+``-prefixed numbers parse.
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
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).removeprefix("+")


def whatsapp_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's WhatsApp number, or `NoAddress` saying why there is none.

    Args:
        contact: the recipient.
        settings: the structured `WhatsAppConfig` (its ``default_region`` reads national numbers), or None.
    """
    region = getattr(settings, "default_region", "") or None
    found = parse(contact.addresses.get(CHANNEL) or contact.phone, region)
    return (found,) if isinstance(found, str) else found


def region_at(settings: Any, location: Location) -> str:
    """The region national numbers are read in at `location`, or "" when none can be known (PRODUCT §6)."""
    return location.region or location.zone_region() or getattr(settings, "default_region", "")


def settings_at(settings: Any, location: Location) -> Any:
    """The channel's `locate`: the settings with ``default_region`` as it applies at `location` (`region_at`)."""
    from tidings_whatsapp.config import WhatsAppConfig

    config = settings if settings is not None else WhatsAppConfig()
    region = region_at(config, location)
    return config if region == config.default_region else attrs.evolve(config, default_region=region)


def check_regions(settings: Any, locations: Sequence[Location]) -> Iterator[Problem]:
    """The channel's `check`: a warning for each location where national numbers cannot be read."""
    for location in locations:
        if region_at(settings, location):
            continue
        zone = location.timezone.key if location.timezone is not None else "UTC"
        where = f"locations.{location.id}" if location.id else "tidings.timezone"
        yield Problem(where, f"national phone numbers (without +) cannot be read for WhatsApp here: the time zone "
                             f"{zone!r} belongs to no country; set this location's region or "
                             "[channels.whatsapp].default_region, or every such number is skipped as invalid_address "
                             "(no_region)", warning=True)
