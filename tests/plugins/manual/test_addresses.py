"""Whom staff can send to: the phone in E.164, read in the location's region, and the e-mail address."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tidings import Contact, NoAddress
from tidings.config import Location
from tidings_manual.addresses import manual_addresses, settings_at
from tidings_manual.config import ManualConfig


def test_a_contact_with_a_phone_and_an_email_has_both_phone_first() -> None:
    contact = Contact(id="c-1", phone="+48 600 100 200", email="ola@example.com")
    assert manual_addresses(contact, ManualConfig()) == ("+48600100200", "ola@example.com")


def test_a_national_number_is_read_in_the_region_of_the_location() -> None:
    kyiv = Location(id="kyiv", timezone=ZoneInfo("Europe/Kyiv"))
    contact = Contact(id="c-1", phone="067 111 2233")
    assert manual_addresses(contact, settings_at(ManualConfig(default_region="PL"), kyiv)) == ("+380671112233",)
    assert manual_addresses(contact, ManualConfig()) == NoAddress("no_phone_or_email")


def test_a_contact_with_nothing_staff_could_send_to_has_no_address_and_says_why() -> None:
    found = manual_addresses(Contact(id="c-1", phone="12", email="not an address"), ManualConfig())
    assert found == () and isinstance(found, NoAddress) and found.reason == "no_phone_or_email"
