"""Whom staff can send a manual message to: the contact's phone (E.164) and e-mail, as the links need them.

Staff send from their own phone, so the channel reaches a contact it has a phone number or an
e-mail address for. The phone is parsed with `phonenumbers`; a national number (no ``+``) is read
in the region of the visit's location (PRODUCT §6): the location's ``region``, else the country of
its time zone, else ``default_region``. The e-mail address is kept when it has the shape of one
(the staff member's mail app is the judge of the rest).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import attrs
import phonenumbers

from tidings.plugin_types import NoAddress

if TYPE_CHECKING:
    from tidings.config import Location
    from tidings.models import Contact

NO_CONTACT = "no_phone_or_email"    # the detail of `invalid_address`: nothing staff could send to

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def phone(value: str | None, region: str | None) -> str | None:
    """`value` in E.164 (``+48600100200``), or None when it is no valid number."""
    if not value or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_phone(address: str) -> bool:
    """Whether one of the channel's addresses is a phone number (else it is an e-mail address)."""
    return address.startswith("+")


def manual_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's phone in E.164 and e-mail address, or why there are none."""
    region = getattr(settings, "default_region", "") or None
    found = [a for a in (phone(contact.phone, region),) if a is not None]
    if contact.email and _EMAIL.fullmatch(contact.email.strip()):
        found.append(contact.email.strip())
    return tuple(found) if found else NoAddress(NO_CONTACT)


def settings_at(settings: Any, location: Location) -> Any:
    """The channel's `locate`: the settings with ``default_region`` as it applies at `location`."""
    from tidings_manual.config import settings as structured

    config = structured(settings)
    region = location.region or location.zone_region() or config.default_region
    return config if region == config.default_region else attrs.evolve(config, default_region=region)
