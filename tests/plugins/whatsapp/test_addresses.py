"""A contact's WhatsApp number: addresses.whatsapp or the phone, E.164 without the +, read in the location's region."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tidings import Contact
from tidings.config import Location

from tidings_whatsapp.addresses import check_regions, settings_at, whatsapp_addresses
from tidings_whatsapp.config import WhatsAppConfig

PL = WhatsAppConfig(default_region="PL")


@pytest.mark.parametrize("phone", ["+48 600 100 200", "600-100-200", "0048600100200", "+48600100200"])
def test_a_phone_becomes_e164_digits_without_the_plus(phone: str) -> None:
    assert whatsapp_addresses(Contact(id="c", phone=phone), PL) == ("48600100200",)


def test_addresses_whatsapp_wins_over_the_phone() -> None:
    contact = Contact(id="c", phone="+48 600 100 200", addresses={"whatsapp": "+380 67 111 2233"})
    assert whatsapp_addresses(contact, PL) == ("380671112233",)


def test_a_landline_is_kept_because_only_meta_knows_whether_it_has_whatsapp() -> None:
    assert whatsapp_addresses(Contact(id="c", phone="+48 22 123 45 67"), PL) == ("48221234567",)


@pytest.mark.parametrize(("contact", "settings", "reason"), [
    (Contact(id="c"), PL, "no_phone"),
    (Contact(id="c", phone="  "), PL, "no_phone"),
    (Contact(id="c", phone="call me"), PL, "not_a_number"),
    (Contact(id="c", phone="600 100 200"), WhatsAppConfig(), "no_region"),
    (Contact(id="c", phone="+48 600 100"), PL, "invalid_number"),
])
def test_a_contact_without_a_usable_number_has_none_and_says_why(
        contact: Contact, settings: WhatsAppConfig, reason: str) -> None:
    found = whatsapp_addresses(contact, settings)
    assert found == () and getattr(found, "reason", None) == reason


def test_a_national_number_is_read_in_the_region_of_the_visits_location() -> None:
    kyiv = Location(id="kyiv", timezone=ZoneInfo("Europe/Kiev"))     # a legacy name of Europe/Kyiv
    local = settings_at(PL, kyiv)
    assert whatsapp_addresses(Contact(id="c", phone="067 111 2233"), local) == ("380671112233",)
    assert settings_at(PL, Location(id="wa", timezone=ZoneInfo("Europe/Warsaw"))) is PL


def test_check_warns_of_a_location_where_national_numbers_cannot_be_read() -> None:
    utc = Location(id="online", timezone=ZoneInfo("UTC"))
    [warning] = check_regions(WhatsAppConfig(), [utc, Location(id="pl", region="PL")])
    assert warning.warning and warning.path == "locations.online" and "[channels.whatsapp].default_region" in warning.message
    assert list(check_regions(PL, [utc])) == []
