"""A contact's SMS address: parsed with phonenumbers, valid numbers only, written in E.164."""

from __future__ import annotations

import pytest

from tidings import Contact
from tidings.plugin_types import Channel

from tidings_sms.config import SmsConfig

POLAND = SmsConfig(default_region="PL")


@pytest.mark.parametrize("phone", ["+48600100200", "+48 600 100 200", "+48-600-100-200", "(+48) 600 100 200"])
def test_an_international_number_is_written_in_e164(sms_channel: Channel, phone: str) -> None:
    assert sms_channel.addresses(Contact(id="c", phone=phone), POLAND) == ("+48600100200",)


@pytest.mark.parametrize("phone", ["600 100 200", "600-100-200", "600100200", "0048 600 100 200"])
def test_a_national_number_is_read_in_the_default_region(sms_channel: Channel, phone: str) -> None:
    assert sms_channel.addresses(Contact(id="c", phone=phone), POLAND) == ("+48600100200",)


def test_the_default_region_decides_which_country_a_national_number_belongs_to(sms_channel: Channel) -> None:
    contact = Contact(id="c", phone="347 123 4567")
    assert sms_channel.addresses(contact, SmsConfig(default_region="IT")) == ("+393471234567",)
    assert sms_channel.addresses(contact, POLAND) == ()


def test_a_foreign_international_number_is_kept_whatever_the_default_region(sms_channel: Channel) -> None:
    assert sms_channel.addresses(Contact(id="c", phone="+380 50 123 4567"), POLAND) == ("+380501234567",)


def test_without_a_default_region_only_international_numbers_are_valid(sms_channel: Channel) -> None:
    assert sms_channel.addresses(Contact(id="c", phone="600 100 200"), SmsConfig()) == ()
    assert sms_channel.addresses(Contact(id="c", phone="600 100 200"), None) == ()
    assert sms_channel.addresses(Contact(id="c", phone="+48 600 100 200"), None) == ("+48600100200",)


@pytest.mark.parametrize("phone", ["+48 600 100", "+48 600 100 200 300", "123", "call me", "+1 555 0100", "+999 1234567"])
def test_an_invalid_number_has_no_address(sms_channel: Channel, phone: str) -> None:
    assert sms_channel.addresses(Contact(id="c", phone=phone), POLAND) == ()


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_a_missing_phone_has_no_address(sms_channel: Channel, phone: str | None) -> None:
    assert sms_channel.addresses(Contact(id="c", phone=phone), POLAND) == ()
