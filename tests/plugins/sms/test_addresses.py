"""A contact's SMS address: parsed with phonenumbers, valid numbers only, written in E.164."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tidings import Contact, NoAddress
from tidings.check import checked
from tidings.config import Location, parse_config
from tidings.plugin_types import Channel
from tidings.simulate import simulate

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


@pytest.mark.parametrize(("phone", "kind"), [
    ("+48 22 123 45 67", "a Warsaw landline"),
    ("+48 800 123 456", "a Polish toll-free number"),
    ("+48 701 234 567", "a Polish premium-rate number"),
    ("+48 801 123 456", "a Polish shared-cost number"),
    ("+44 20 7123 4567", "a London landline"),
    ("+44 800 123 4567", "a UK freephone number"),
    ("+380 44 234 5678", "a Kyiv landline"),
    ("22 123 45 67", "a national Warsaw landline"),
])
def test_a_number_that_cannot_receive_an_sms_is_no_address_and_says_not_mobile(sms_channel: Channel, phone: str,
                                                                               kind: str) -> None:
    found = sms_channel.addresses(Contact(id="c", phone=phone), POLAND)
    assert found == () and isinstance(found, NoAddress), kind
    assert found.reason == "not_mobile", kind


@pytest.mark.parametrize(("phone", "expected"), [
    ("+48 600 100 200", "+48600100200"),     # a Polish mobile
    ("+380 67 111 2233", "+380671112233"),   # a Ukrainian mobile
    ("+1 650 253 0000", "+16502530000"),     # the US plan cannot tell mobiles from landlines: kept
    ("+48 39 123 45 67", "+48391234567"),    # VoIP: may take an SMS, the provider decides
])
def test_a_number_that_may_receive_an_sms_is_kept(sms_channel: Channel, phone: str, expected: str) -> None:
    assert sms_channel.addresses(Contact(id="c", phone=phone), POLAND) == (expected,)


@pytest.mark.parametrize(("phone", "settings", "reason"), [
    (None, POLAND, "no_phone"),
    ("  ", POLAND, "no_phone"),
    ("call me", POLAND, "not_a_number"),
    ("600 100 200", SmsConfig(), "no_region"),
    ("600 100 200", None, "no_region"),
    ("+48 600 100", POLAND, "invalid_number"),
    ("347 123 4567", POLAND, "invalid_number"),
])
def test_an_unusable_phone_says_why(sms_channel: Channel, phone: str | None, settings: SmsConfig | None,
                                    reason: str) -> None:
    found = sms_channel.addresses(Contact(id="c", phone=phone), settings)
    assert isinstance(found, NoAddress) and found.reason == reason


def test_a_skipped_landline_is_recorded_as_invalid_address_with_the_detail_not_mobile() -> None:
    config = parse_config({"tidings": {"timezone": "Europe/Warsaw"},
                           "plugins": {"channels": ["sms", "email"], "triggers": ["status-change"]},
                           "channels": {"sms": {"default_region": "PL"}},
                           "rules": [{"id": "ready", "trigger": "status-change", "kind": "order", "on": "status_changed",
                                      "channel": "prefer_sms", "template": "t"}],
                           "templates": {"t": {"sms": "Ready", "email": {"subject": "Ready", "text": "Ready"}}}})
    lines = [json.dumps({"id": "e-1", "type": "order.status_changed", "occurred_at": "2026-05-04T12:00:00+02:00",
                         "previous": {"status": "in_repair"},
                         "subject": {"id": "o-1", "status": "ready",
                                     "client": {"id": "c", "phone": "22 123 45 67", "consents": {"sms": True}}}})]
    [record] = [r for r in simulate(config, lines, explain=True) if r.get("status") == "skipped"]
    assert record["reason"] == "invalid_address"
    assert record["refused"] == {"sms": "invalid_address", "email": "invalid_address"}
    assert record["detail"] == {"sms": "not_mobile"}   # e-mail's addresses returns a bare (): no detail


def test_a_location_without_its_own_zone_reads_national_numbers_in_the_configured_zones_country() -> None:
    config = parse_config({"tidings": {"timezone": "Europe/Kyiv"},
                           "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
                           "channels": {"sms": {"default_region": "PL"}},
                           "locations": {"podil": {"name": "Podil"}},
                           "rules": [{"id": "ready", "trigger": "status-change", "kind": "order", "on": "status_changed",
                                      "channel": "sms", "template": "t"}],
                           "templates": {"t": {"sms": "Ready"}}})
    lines = [json.dumps({"id": "e-1", "type": "order.status_changed", "occurred_at": "2026-05-04T12:00:00+03:00",
                         "previous": {"status": "in_repair"},
                         "subject": {"id": "o-1", "status": "ready", "location": "podil",
                                     "client": {"id": "c", "phone": "067 111 2233", "consents": {"sms": True}}}})]
    assert [r["to"] for r in simulate(config, lines) if r.get("channel") == "sms"] == ["+380671112233"]


def regions_config(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {"tidings": {"timezone": "Europe/Warsaw"},
                           "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
                           "channels": {"sms": {}},
                           "locations": {"warsaw": {"timezone": "Europe/Warsaw"}, "ship": {"timezone": "UTC"},
                                         "lab": {"timezone": "Etc/GMT-3", "region": "UA"}, "home": {}}}
    raw.update(changes)
    return raw


def test_check_warns_of_each_location_where_national_numbers_cannot_be_read() -> None:
    config = checked(regions_config())
    assert [(w.path, w.warning) for w in config.warnings if "national phone numbers" in w.message] == [
        ("locations.ship", True)]   # warsaw and home (in [tidings].timezone) have a zone's country, lab its region
    assert "'UTC'" in config.warnings[0].message and "region" in config.warnings[0].message


def test_check_does_not_warn_when_the_default_region_applies() -> None:
    config = checked(regions_config(channels={"sms": {"default_region": "PL"}}))
    assert not [w for w in config.warnings if "national phone numbers" in w.message]


# a provider table `tidings check` finds complete with no secret, so that only region warnings are printed
JSON_PROVIDER = '[channels.sms]\nprovider = "json"\nurl = "https://sms.example/send"\n'


def test_check_warns_of_the_default_location_when_none_is_configured(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text('[tidings]\ntimezone = "UTC"\n[plugins]\nchannels = ["sms"]\n' + JSON_PROVIDER, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "warning: tidings.timezone: national phone numbers (without +) cannot be read here" in result.stderr
    path.write_text('[tidings]\ntimezone = "Europe/Rome"\n[plugins]\nchannels = ["sms"]\n' + JSON_PROVIDER, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
