"""A contact's SMS address: parsed with phonenumbers, valid numbers only, written in E.164."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from tidings import Contact
from tidings.config import Location, parse_config
from tidings.simulate import simulate
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


KYIV = ZoneInfo("Europe/Kyiv")
UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(("location", "settings", "region"), [
    (Location(id="k", timezone=KYIV, region="PL"), SmsConfig(default_region="IT"), "PL"),    # the location says
    (Location(id="k", timezone=KYIV), SmsConfig(default_region="PL"), "UA"),                 # then its zone's country
    (Location(id="k", timezone=KYIV), SmsConfig(), "UA"),
    (Location(id="k", timezone=ZoneInfo("Europe/Kiev")), SmsConfig(default_region="PL"), "UA"),   # legacy names too
    (Location(id="u", timezone=ZoneInfo("Europe/Uzhgorod")), SmsConfig(default_region="PL"), "UA"),
    (Location(id="z", timezone=ZoneInfo("Europe/Zaporozhye")), SmsConfig(default_region="PL"), "UA"),
    (Location(id="n", timezone=ZoneInfo("US/Eastern")), SmsConfig(default_region="PL"), "US"),
    (Location(id="x", timezone=UTC), SmsConfig(default_region="IT"), "IT"),                  # then the setting
    (Location(id="x"), SmsConfig(default_region="IT"), "IT"),
    (Location(id="x"), None, ""),                                                            # nothing to go by
])
def test_national_numbers_are_read_in_the_region_of_the_location(sms_channel: Channel, location: Location,
                                                                  settings: SmsConfig | None, region: str) -> None:
    assert sms_channel.locate is not None
    assert sms_channel.locate(settings, location).default_region == region


def test_a_kyiv_salon_reaches_a_national_number_with_no_setting_at_all() -> None:
    config = parse_config({"tidings": {"timezone": "Europe/Warsaw"},
                           "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
                           "locations": {"kyiv": {"timezone": "Europe/Kyiv"}, "warsaw": {}},
                           "rules": [{"id": "ready", "trigger": "status-change", "kind": "order", "on": "status_changed",
                                      "channel": "sms", "template": "t"}],
                           "templates": {"t": {"sms": "Ready: {{ subject.id }}"}}})
    lines = [json.dumps({"id": f"e-{place}", "type": "order.status_changed", "occurred_at": "2026-05-04T12:00:00+03:00",
                         "previous": {"status": "in_repair"},
                         "subject": {"id": f"o-{place}", "status": "ready", "location": place,
                                     "client": {"id": "c", "phone": "050 123 4567", "consents": {"sms": True}}}})
             for place in ("kyiv", "warsaw")]
    records = simulate(config, lines, explain=True)
    assert [(r["subject"], r["to"]) for r in records if r.get("channel") == "sms" and "reason" not in r] == [("o-kyiv", "+380501234567")]
    assert [(r["subject"], r["reason"]) for r in records if r.get("status") == "skipped"] == [("o-warsaw", "invalid_address")]
