"""Configuration (PRODUCT §4): everything a deployer can get wrong is reported at once, with its place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tidings.config import Location, load_config, parse_config
from tidings.errors import ConfigError

GOOD = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["sms", "email", "push"]
triggers = ["status-change", "pre-visit", "post-visit", "repeat-visit"]

[locations.old-town]
name = "Old Town"
timezone = "Europe/Warsaw"
hours = { mon = "09:00-13:00,14:00-18:00", sat = "10:00-14:00" }

[[rules]]
id = "confirmed"
trigger = "status-change"
on = "status_changed"
from = ["pending"]
to = ["confirmed"]
channel = "prefer_sms"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "24h"
channel = ["push", "sms"]
locations = ["old-town"]
"""

SIX_MISTAKES = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["sms", "email", "whatsap"]
triggers = ["status-change", "pre-visit", "post-visit", "repeat-visit"]

[locations.old-town]
timezone = "Europe/Warsaw"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "3 months"
channel = "sms"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "1h"
chanel = "sms"

[[rules]]
id = "review"
trigger = "post-visit"
after = "1h"
channel = "email"
locations = ["old-twon"]
template = "review"

[templates.review]
email = { subject = "Thanks", text = "Hi {{ cleint.name }}" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_configuration_loads_with_its_rules_and_trigger_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    confirmed, reminder = config.rules
    assert confirmed.from_ == ("pending",) and confirmed.to == ("confirmed",)
    assert confirmed.channel == ("sms", "email")
    assert str(reminder.before) == "24h" and reminder.channel == ("push", "sms")
    assert config.zone("old-town").key == "Europe/Warsaw"


def test_six_different_mistakes_are_all_reported_with_their_places(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, SIX_MISTAKES))
    text = str(caught.value)
    assert "plugins.channels[2]: no channel plugin named 'whatsap' is installed (installed: " in text
    assert "rules[0] (reminder-24h).before: '3 months' is not a duration" in text
    assert "rules[1] (reminder-24h).id: duplicate rule id 'reminder-24h'" in text
    assert "rules[1] (reminder-24h).chanel: unknown key 'chanel'; did you mean 'channel'?" in text
    assert "rules[2] (review).locations: unknown location 'old-twon'" in text
    assert "cleint" in text


def test_tidings_check_names_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(write(tmp_path, SIX_MISTAKES))],
                            capture_output=True, text=True)
    assert result.returncode == 1
    problems = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) >= 6
    for place in ("plugins.channels[2]", "rules[0] (reminder-24h).before", "rules[1] (reminder-24h).id",
                  "rules[1] (reminder-24h).chanel", "rules[2] (review).locations", "templates.review"):
        assert any(place in line for line in problems), place


def test_tidings_check_prints_a_one_line_summary_when_clean(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(write(tmp_path, GOOD))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith("ok (2 rules, 1 location, channels: sms, email, push, "
                                                          "triggers: status-change, pre-visit, post-visit, repeat-visit)")


@pytest.mark.parametrize(("patch", "place", "message"), [
    ({"tidings": {"timezone": "Europe/Warsow"}}, "tidings.timezone", "'Europe/Warsow' is not a time zone"),
    ({"tidings": {"timezone": "UTC", "colour": "red"}}, "tidings.colour", "unknown key 'colour'"),
    ({"tidings": {"namespace": "Salon A"}}, "tidings.namespace", "'Salon A' is not a namespace"),
    ({"links": {"base_url": "https://s.example/t", "secret": "hunter2"}}, "links.secret", "use at least 32"),
    ({"locations": {"x": {"hours": {"mon": "9-18"}}}}, "locations.x.hours", "mon: '9-18' is not an interval"),
    ({"locations": {"x": {"region": "pl"}}}, "locations.x.region", "'pl' is not an ISO 3166 region code"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "fax"}]}, "rules[0] (r).channel", "'fax' is not an enabled channel"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms", "late": "maybe"}]}, "rules[0] (r).late", "'late' must be in"),
    ({"rules": [{"id": "r", "trigger": "birthday", "channel": "sms"}]}, "rules[0] (r).trigger", "'birthday' is not an enabled trigger"),
    ({"rules": [{"id": "r", "trigger": "repeat-visit", "after": "2w", "channel": "sms"}]}, "rules[0] (r)", "needs services or categories"),
    ({"rules": [{"id": "r", "trigger": "status-change", "on": "moved", "channel": "sms"}]}, "rules[0] (r).on", "'on' must be in"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms", "kind": "visit"}]}, "rules[0] (r).kind", "'visit' is not a kind"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "channel": "sms"}]}, "rules[0] (r).before", "is required but missing"),
    ({"channels": {"fax": {}}}, "channels.fax", "not enabled"),
])
def test_each_mistake_names_its_place_and_the_problem(patch: dict[str, Any], place: str, message: str) -> None:
    raw: dict[str, Any] = {"tidings": {"timezone": "UTC"}, "plugins": {"channels": ["sms", "email"], "triggers": ["status-change", "pre-visit", "repeat-visit"]}}
    raw.update(patch)
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert any(p.path == place and message in p.message for p in caught.value.problems), caught.value.problems


def test_an_installed_but_unlisted_plugin_is_never_imported() -> None:
    code = ("import sys; from tidings.config import parse_config; "
            "parse_config({'plugins': {'triggers': ['pre-visit']}}); "
            "print(sorted(m for m in sys.modules if m.startswith(('tidings_sms', 'tidings_email', 'tidings_push', 'tidings_triggers.repeat'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("zone", "country"), [
    ("Europe/Kyiv", "UA"), ("Europe/Kiev", "UA"), ("Europe/Uzhgorod", "UA"), ("Europe/Zaporozhye", "UA"),
    ("US/Eastern", "US"), ("Poland", "PL"), ("Asia/Calcutta", "IN"),
    ("Europe/Vaduz", "LI"),    # a link to Europe/Zurich, but zone.tab names its own country
    ("UTC", ""), ("Etc/GMT-3", ""),
])
def test_a_zone_and_its_legacy_names_have_the_country_they_are_in(zone: str, country: str) -> None:
    assert Location(id="x", timezone=ZoneInfo(zone)).zone_region() == country


def test_a_location_without_its_own_zone_is_in_the_configured_one() -> None:
    config = parse_config({"tidings": {"timezone": "Europe/Kyiv"},
                           "locations": {"podil": {"name": "Podil"}, "rome": {"timezone": "Europe/Rome"}}})
    assert config.location("podil").timezone == ZoneInfo("Europe/Kyiv")
    assert config.location("podil").zone_region() == "UA" and config.location("podil").name == "Podil"
    assert config.location("rome").zone_region() == "IT"
    assert config.location("nowhere").zone_region() == "UA"


def test_a_boolean_setting_given_as_a_string_is_refused_with_its_key() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config({"plugins": {"channels": ["sms"]}, "channels": {"sms": {"transliterate": "false"}}})
    assert [(p.path, p.message) for p in e.value.problems] == [("channels.sms.transliterate", "'false' is not true or false")]
