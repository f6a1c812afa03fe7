"""The SMS address of a contact: its phone number, parsed, validated and written in E.164."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import phonenumbers

if TYPE_CHECKING:
    from tidings.config import Location
    from tidings.models import Contact


def normalise(phone: str | None, region: str | None = None) -> str | None:
    """`phone` in E.164 (``+48600100200``), or None when it is missing, unparsable or not a valid number.

    Args:
        phone: the number as the host platform has it: ``+48 600 100 200``, ``600-100-200``, ``0048…``.
        region: the ISO 3166 region for national numbers; without one, only ``+``-prefixed numbers parse.
    """
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sms_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's phone in E.164, or ``()`` when there is no valid one.

    Args:
        contact: the recipient.
        settings: the structured `SmsConfig` (its ``default_region`` reads national numbers), or None.
    """
    region = getattr(settings, "default_region", "") or None
    address = normalise(contact.phone, region)
    return (address,) if address else ()


def sms_settings_at(settings: Any, location: Location) -> Any:
    """The channel's `locate`: the settings with ``default_region`` as it applies at `location`.

    The location's own ``region`` wins; then the configured ``default_region``; then the country of
    the location's time zone (``Europe/Kyiv`` → ``UA``), so a Kyiv salon's ``050 123 4567`` reads as
    ``+380501234567`` with no setting at all.
    """
    from tidings_sms.config import SmsConfig
    config = settings if settings is not None else SmsConfig()
    region = location.region or config.default_region or location.zone_region()
    return config if region == config.default_region else attrs.evolve(config, default_region=region)
