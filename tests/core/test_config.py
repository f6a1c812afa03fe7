"""Configuration (PRODUCT §4): everything a deployer can get wrong is reported at once, with its place."""

from __future__ import annotations

import copy
import subprocess
import sys
import tempfile
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.check import checked
from tidings.config import Location, load_config, parse_config
from tidings.deployment import Deployment
from tidings.errors import ConfigError

GOOD = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["sms", "email", "push"]
triggers = ["status-change", "pre-visit", "post-visit", "repeat-visit"]

[channels.sms]
account_sid = "AC00000000000000000000000000000000"
sender = "+48600000000"

[channels.email]
sender = "Salon <hello@salon.example>"

[channels.push]
vapid_subject = "mailto:ops@salon.example"

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
        checked(write(tmp_path, SIX_MISTAKES))
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
    # the day is part of the place since every bad day is reported at once (issue 9)
    ({"locations": {"x": {"hours": {"mon": "9-18"}}}}, "locations.x.hours.mon", "'9-18' is not an interval"),
    ({"locations": {"x": {"region": "pl"}}}, "locations.x.region", "'pl' is not an ISO 3166 region code"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "fax"}]}, "rules[0] (r).channel", "'fax' is not an enabled channel"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms", "late": "maybe"}]}, "rules[0] (r).late", "'late' must be in"),
    ({"rules": [{"id": "r", "trigger": "birthday", "channel": "sms"}]}, "rules[0] (r).trigger", "'birthday' is not an enabled trigger"),
    ({"rules": [{"id": "r", "trigger": "repeat-visit", "after": "2w", "channel": "sms"}]}, "rules[0] (r)", "needs services or categories"),
    ({"rules": [{"id": "r", "trigger": "status-change", "on": "moved", "channel": "sms"}]}, "rules[0] (r).on", "'on' must be in"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms", "kind": "visit"}]}, "rules[0] (r).kind", "'visit' is not a kind"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "channel": "sms"}]}, "rules[0] (r).before", "is required but missing"),
    ({"channels": {"fax": {}}}, "channels.fax", "not enabled"),
    ({"rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms", "delivery": "exactly-once"}]},
     "rules[0] (r).delivery", "'exactly-once' is not a delivery guarantee (choose one of: at-least-once, at-most-once)"),
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


# ---------------------------------------------------------------- any TOML: a Config or a ConfigError, never a traceback

# a configuration that uses every table and most keys; the generated ones are mutations of it
FULL: dict[str, Any] = {
    "tidings": {"timezone": "Europe/Warsaw", "locale": "pl", "lease": "5m", "namespace": "salon"},
    "plugins": {"channels": ["sms", "email", "push"], "triggers": ["status-change", "pre-visit", "post-visit", "repeat-visit"]},
    "channels": {"sms": {"provider": "twilio", "account_sid": "AC1", "sender": "+48600000000", "default_region": "PL",
                         "timeout": 5.0, "headers": {"X-Salon": "1"}, "success_statuses": [200, 201]},
                 "email": {"host": "127.0.0.1", "port": 25, "sender": "Salon <hello@salon.example>",
                           "senders_by_location": {"kyiv": "Kyiv <kyiv@salon.example>"}},
                 "push": {"vapid_subject": "mailto:ops@salon.example", "ttl": 3600}},
    "locations": {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw", "region": "PL",
                               "hours": {"mon": "09:00-13:00,14:00-18:00", "sat": "10:00-14:00"}},
                  "kyiv": {"timezone": "Europe/Kyiv"}},
    "rules": [
        {"id": "confirmed", "trigger": "status-change", "on": "status_changed", "from": ["pending"], "to": ["confirmed"],
         "channel": "prefer_sms", "template": "short"},
        {"id": "reminder", "trigger": "pre-visit", "before": "24h", "statuses": ["confirmed"], "channel": ["push", "sms"],
         "locations": ["old-town"], "template": "short", "late": "send"},
        {"id": "review", "trigger": "post-visit", "after": "2h", "working_hours": True, "channel": "prefer_email",
         "template": "short", "delay": "0m", "on_status": "completed"},
        {"id": "repeat", "trigger": "repeat-visit", "after": "3w", "categories": ["nails"], "channel": "sms",
         "template": "short", "recipient": "client", "kind": "appointment", "enabled": True},
    ],
    "templates": {"short": {"sms": "Hi {{ client.name }}", "email": {"subject": "Hi", "text": "Hi {{ client.name }}"},
                            "push": {"title": "Hi", "body": "See you"}}},
    "links": {"base_url": "https://salon.example/l", "secret": "a-link-secret-of-at-least-32-bytes!", "ttl": "7d"},
}

# values a deployer might plausibly write, besides arbitrary ones
PLAUSIBLE = st.sampled_from(["", "x", "ł", "Zażółć", "0d", "0m", "24h", "3 months", "sms", "email", "fax", "prefer_sms",
                             "prefer_email", "confirmd", "completed", "09:00-18:00", "9-18", "Europe/Kyiv", "Europe/Warsow",
                             "PL", "pl", "twilio", "json", "{{ client.name }}", "{{ cleint }}", "{% if %}", "mon"])
SCALARS = st.one_of(PLAUSIBLE, st.text(max_size=10), st.integers(-(2**63), 2**63 - 1), st.booleans(),
                    st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.times(),
                    st.datetimes(timezones=st.just(timezone.utc)))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | PLAUSIBLE,
                                                                                           inner, max_size=3), max_leaves=5)
KEYS = st.one_of(st.sampled_from(["id", "trigger", "channel", "to", "from", "hours", "locations", "sms", "email",
                                  "before", "after", "lease", "tue", "url", "auth_token"]), st.text(max_size=6))


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a TOML document: table keys and array indexes, outermost first."""
    out = [path] if path else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        out.extend(places(child, (*path, key)))
    return out


@st.composite
def mutated_configurations(draw: st.DrawFn) -> dict[str, Any]:
    """FULL with one to four changes: a value or table replaced by anything, a key deleted, a key added."""
    doc = copy.deepcopy(FULL)
    for _ in range(draw(st.integers(1, 4))):
        place = draw(st.sampled_from(places(doc)))
        *parents, last = place
        container = doc
        for key in parents:
            container = container[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            container[last] = draw(VALUES)
        elif action == "delete":
            del container[last]
        elif isinstance(container[last], dict):
            container[last][draw(KEYS)] = draw(VALUES)
        elif isinstance(container[last], list):
            container[last].append(draw(VALUES))
    return doc


@pytest.fixture(scope="module")
def registry() -> Any:
    # the registry of FULL's plugins, built once: entry-point discovery is most of a parse's time
    return Deployment.from_config(FULL).registry


def test_the_full_configuration_used_for_generation_is_valid(registry: Any) -> None:
    config = parse_config(FULL, registry=registry)
    assert [r.id for r in config.rules] == ["confirmed", "reminder", "review", "repeat"]


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=mutated_configurations())
def test_any_mutated_configuration_gives_a_config_or_a_config_error_and_nothing_else(doc: dict[str, Any], registry: Any) -> None:
    try:
        checked(doc, registry=registry)   # structured, then checked as `tidings check` does
    except ConfigError as e:
        assert e.problems and all(isinstance(p.path, str) and p.message for p in e.problems)


def check_file(path: Path) -> Any:
    """`tidings check PATH` in this process, without the group's logging set-up."""
    from click.testing import CliRunner

    from tidings.cli import check
    return CliRunner().invoke(check, [str(path)])


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(doc=mutated_configurations())
def test_tidings_check_of_any_mutated_file_exits_0_or_1_without_a_traceback(doc: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tidings.toml"
        path.write_text(tomli_w.dumps(doc), encoding="utf-8")
        result = check_file(path)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("text", "place", "message"), [
    ('tidings = "x"', "tidings", "must be a table, not a string ('x')"),
    ('channels = "x"', "channels", "must be a table of [channels.<name>] tables, not a string ('x')"),
    ("plugins = 3", "plugins", "must be a table, not an integer (3)"),
    ('locations = { a = "x" }', "locations.a", "must be a table, not a string ('x')"),
    ("rules = [1]", "rules[0]", "must be a table, not an integer (1)"),
    ("links = []", "links", "must be a table, not an array"),
    ("templates = 2", "templates", "must be a table of [templates.<name>] tables, not an integer (2)"),
    ('[plugins]\nchannels = ["sms"]\n[channels]\nsms = "twilio"', "channels.sms", "must be a table, not a string ('twilio')"),
    ('[locations.x]\nhours = "x"', "locations.x.hours", "'x' is not a table of days"),
    ('[plugins]\nchannels = { sms = true }', "plugins.channels", "must be a list of names, not a table"),
    ('[tidings]\nlocale = 3', "tidings.locale", "must be a string, not an integer (3)"),
    ('[plugins]\nchannels = ["sms"]\ntriggers = ["pre-visit"]\n[[rules]]\nid = "r"\ntrigger = "pre-visit"\nbefore = "1h"\n'
     'channel = "sms"\nworking_hours = "false"', "rules[0] (r).working_hours", "'false' is not true or false"),
])
def test_a_value_of_the_wrong_type_is_a_problem_at_its_place_not_a_traceback(tmp_path: Path, text: str, place: str,
                                                                             message: str) -> None:
    result = check_file(write(tmp_path, text))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert any(line.startswith(f"  {place}: {message}") for line in result.output.splitlines()), result.output


def test_tidings_check_of_a_table_written_as_a_string_runs_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(write(tmp_path, 'tidings = "x"\nlinks = []'))],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "  tidings: must be a table, not a string ('x')" in result.stderr.splitlines()


def test_a_single_name_stands_for_a_list_of_one_and_is_never_read_letter_by_letter() -> None:
    config = parse_config({"plugins": {"channels": "sms", "triggers": "pre-visit"}, "locations": {"old-town": {}},
                           "rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms",
                                      "locations": "old-town", "statuses": "confirmed"}]})
    assert config.plugins.channels == ("sms",) and config.plugins.triggers == ("pre-visit",)
    assert config.rules[0].locations == ("old-town",) and config.rules[0].statuses == ("confirmed",)


def test_a_number_is_not_taken_for_a_name() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"plugins": {"channels": ["sms", 3]}})
    assert [str(p) for p in caught.value.problems] == ["plugins.channels[1]: must be a string, not an integer (3)"]


# ---------------------------------------------------------------- hours, statuses, durations, channel policies

TWO_CHANNELS: dict[str, Any] = {"plugins": {"channels": ["sms", "email"], "triggers": ["status-change", "pre-visit"]}}


def problems_of(raw: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, **kwargs)
    return [str(p) for p in caught.value.problems]


def test_every_problem_of_a_locations_hours_is_reported_at_once_with_its_day() -> None:
    raw = {"locations": {"x": {"hours": {"mon": "9-18", "tue": "18:00-09:00", "wed": "09:00-18:00", "sun": ""}}}}
    assert problems_of(raw) == ["locations.x.hours.mon: '9-18' is not an interval like \"09:00-18:00\"",
                                "locations.x.hours.tue: '18:00-09:00' ends before it starts",
                                "locations.x.hours.sun: '' is not opening hours (like \"09:00-18:00\" or \"09:00-13:00,14:00-18:00\")"]


def visits_plugin() -> Any:
    """A trigger plugin of the test's own: one key marked as statuses, one not."""
    import types

    from attrs import field, frozen

    from tidings import STATUSES, Trigger, hookimpl

    @frozen
    class VisitsRule:
        wanted: tuple[str, ...] = field(default=(), metadata={STATUSES: True})
        labels: tuple[str, ...] = ()

    @hookimpl
    def tidings_triggers() -> Any:
        yield Trigger(name="visits", summary="test", rule_type=VisitsRule, plan=lambda *_: (), default_template="visits")
    return types.SimpleNamespace(tidings_triggers=tidings_triggers)


def test_the_core_checks_every_key_a_trigger_marks_as_statuses_against_the_appointment_statuses() -> None:
    import tidings_sms.plugin

    from tidings.plugins import registry_for
    registry = registry_for(tidings_sms.plugin, visits_plugin())
    raw: dict[str, Any] = {"plugins": {"channels": ["sms"], "triggers": ["visits"]},
                           "rules": [{"id": "r", "trigger": "visits", "channel": "sms", "wanted": ["pending", "confirmd"],
                                      "labels": ["anything"]}],
                           "templates": {"visits": {"sms": "Hi {{ client.name }}"}}}
    assert problems_of(raw, registry=registry) == [
        "rules[0] (r).wanted: 'confirmd' is not an appointment status; did you mean 'confirmed'? (choose one of: "
        "pending, confirmed, rejected, cancelled, completed, no_show; orders and leads take any status)"]
    # an order's statuses are the host's own
    raw["rules"][0]["kind"] = "order"
    assert parse_config(raw, registry=registry).rules[0].wanted == ("pending", "confirmd")


def test_a_zero_lease_and_a_zero_link_ttl_are_refused_naming_the_key_and_a_zero_delay_is_fine() -> None:
    assert problems_of({"tidings": {"lease": "0m"}, "links": {"ttl": "0d"}}) == [
        "tidings.lease: '0m' is zero: a lease of zero would hand every due message to a second scheduler while the "
        "first sends it; use a positive duration",
        "links.ttl: '0d' is zero: a link valid for no time cannot be followed; use a positive duration"]
    config = parse_config({**TWO_CHANNELS, "rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "sms",
                                                      "delay": "0m"}]})
    assert str(config.rules[0].delay) == "0m"


def test_retention_is_a_duration_of_90_days_by_default_and_zero_or_nonsense_is_refused_naming_the_key() -> None:
    assert parse_config(TWO_CHANNELS).tidings.retention.elapsed() == timedelta(days=90)
    assert parse_config({**TWO_CHANNELS, "tidings": {"retention": "2w"}}).tidings.retention.elapsed() == timedelta(days=14)
    assert problems_of({"tidings": {"retention": "0d"}}) == [
        "tidings.retention: '0d' is zero: a retention of zero would forget every sent message at once; "
        "use a positive duration"]
    assert problems_of({"tidings": {"retention": "forever"}})[0].startswith("tidings.retention: ")


def test_a_policy_whose_channel_is_not_enabled_names_the_policy_the_user_wrote() -> None:
    raw = {"plugins": {"channels": ["sms"], "triggers": ["pre-visit"]},
           "rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "prefer_sms"}]}
    assert problems_of(raw) == ["rules[0] (r).channel: prefer_sms needs channels sms and email enabled in "
                                "[plugins].channels (email is not enabled)"]


def test_an_unknown_channel_lists_only_what_would_work_with_the_enabled_channels() -> None:
    raw = {"plugins": {"channels": ["sms"], "triggers": ["pre-visit"]},
           "rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": ["sms", "smss"]},
                     {"id": "p", "trigger": "pre-visit", "before": "2h", "channel": "push"}]}
    assert problems_of(raw) == [
        "rules[0] (r).channel: 'smss' is not an enabled channel; did you mean 'sms'? "
        "(choose one of: sms; installed but not enabled: email, manual, push, telegram, webhook, whatsapp)",
        "rules[1] (p).channel: 'push' is not an enabled channel: it is installed, add it to [plugins].channels (enabled: sms)"]


def test_the_channel_choices_are_the_registered_channels_when_a_registry_is_given() -> None:
    import tidings_sms.plugin
    import tidings_triggers.pre_visit

    from tidings.plugins import registry_for
    registry = registry_for(tidings_sms.plugin, tidings_triggers.pre_visit)
    raw = {"plugins": {"channels": ["sms"], "triggers": ["pre-visit"]},
           "rules": [{"id": "r", "trigger": "pre-visit", "before": "1h", "channel": "prefer_email"}]}
    assert problems_of(raw, registry=registry) == ["rules[0] (r).channel: prefer_email needs channels email and sms enabled "
                                                   "in [plugins].channels (email is not installed)"]


# ---------------------------------------------------------------- can each channel build its transport

def test_tidings_check_reports_channel_settings_no_transport_could_be_built_with(tmp_path: Path) -> None:
    text = """
[plugins]
channels = ["sms", "email"]
triggers = ["pre-visit"]
[channels.sms]
provider = "json"
[channels.email]
host = ""
[[rules]]
id = "r"
trigger = "pre-visit"
before = "0m"
channel = "sms"
"""
    result = check_file(write(tmp_path, text))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    # every problem at once: the channels' and the rules'
    for line in ("  channels.sms.url: is required by the json provider",
                 "  channels.email.host: is required: the SMTP server's name or address, like 'smtp.salon.example'",
                 "  channels.email.sender: is required (senders_by_location only overrides it): "
                 "the From mailbox, like 'Salon Ola <hello@salon.example>'"):
        assert line in lines, result.output
    assert any(line.startswith("  rules[0] (r).before: '0m' is zero") for line in lines)
    # simulate and preview load the same file without asking the channels: they never connect
    assert load_config(write(tmp_path, text.replace('before = "0m"', 'before = "1h"'))).channels["sms"].provider == "json"


def test_a_secret_absent_from_checks_environment_is_a_warning_and_an_error_with_require_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tidings.cli import check, init
    path = tmp_path / "tidings.toml"
    assert CliRunner().invoke(init, [str(path)]).exit_code == 0
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    warning = ("  warning: channels.sms.auth_token: is required by the twilio provider and is not set here: "
               "put $TIDINGS_SMS_AUTH_TOKEN in the worker's environment (or auth_token in this table)")

    relaxed = check_file(path)
    assert relaxed.exit_code == 0 and warning in relaxed.output.splitlines()

    strict = CliRunner().invoke(check, ["--require-env", str(path)])
    assert strict.exit_code == 1
    assert warning.replace("warning: ", "") in strict.output.splitlines()

    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", "secret")
    ready = CliRunner().invoke(check, ["--require-env", str(path)])
    assert ready.exit_code == 0 and "auth_token" not in ready.output


def test_a_channel_whose_verify_fails_is_a_problem_not_a_traceback() -> None:
    import types

    from tidings import Channel, hookimpl
    from tidings.plugins import registry_for

    def broken(settings: Any) -> Any:
        raise RuntimeError("bug")

    @hookimpl
    def tidings_channels() -> Any:
        yield Channel(name="fax", summary="test", parts=("text",), addresses=lambda *_: (), connect=lambda _: None,
                      verify=broken)
    registry = registry_for(types.SimpleNamespace(tidings_channels=tidings_channels))
    with pytest.raises(ConfigError) as caught:
        checked({"plugins": {"channels": ["fax"]}}, registry=registry, verify=True)
    assert [str(p) for p in caught.value.problems] == ["channels.fax: the fax channel could not verify its settings: "
                                                       "RuntimeError('bug')"]
