"""`tidings check` knows which address each rule's channels need, and warns about a rule that can never reach anyone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tidings_manual.plugin
import tidings_sms.plugin
import tidings_telegram.plugin
import tidings_triggers.status_change
from tidings import Channel, PluginError
from tidings.check import checked
from tidings.deployment import Deployment
from tidings.errors import ConfigError
from tidings.plugins import registry_for
from tidings.reach import reach_lines, reach_problems

RULES = [{"id": "staff-heads-up", "trigger": "status-change", "on": "created", "recipient": "staff", "channel": ["telegram"]},
         {"id": "confirmed", "trigger": "status-change", "on": "created", "channel": ["telegram", "sms"]},
         {"id": "desk", "trigger": "status-change", "on": "created", "recipient": "staff", "channel": "manual"}]


def deployment(**contacts: Any) -> Deployment:
    document: dict[str, Any] = {
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["telegram", "sms", "manual"], "triggers": ["status-change"]},
        "channels": {"telegram": {"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"},
                     "sms": {"provider": "json", "url": "https://sms.example/messages", "sender": "Salon"}},
        "rules": RULES}
    if contacts:
        document["contacts"] = contacts
    return checked(document, registry=registry_for(tidings_triggers.status_change, tidings_telegram.plugin,
                                                   tidings_sms.plugin, tidings_manual.plugin))


def test_check_says_per_rule_which_address_each_channel_needs() -> None:
    assert reach_lines(deployment()) == [
        "reach staff-heads-up (staff): telegram needs addresses.telegram",
        "reach confirmed (client): telegram needs addresses.telegram; sms needs phone",
        "reach desk (staff): manual needs phone or email"]


def test_a_rule_whose_channels_can_never_reach_staff_records_is_a_warning_naming_what_is_missing() -> None:
    checked_one = deployment(staff=["phone", "email"], client=["phone", "addresses.telegram"])
    [warning] = [p for p in checked_one.warnings if p.path.startswith("rules[")]
    assert warning.path == "rules[0] (staff-heads-up).channel" and warning.warning
    assert "no channel of this rule can ever reach its recipient (staff): telegram needs addresses.telegram" in warning.message
    assert "[contacts] staff lists only phone, email" in warning.message


def test_without_contacts_nothing_is_known_and_nothing_is_warned() -> None:
    assert reach_problems(deployment()) == []
    assert reach_problems(deployment(staff=["phone", "addresses.telegram"])) == []


def test_an_address_key_a_contact_cannot_have_is_a_problem_at_its_place() -> None:
    with pytest.raises(ConfigError) as refused:
        deployment(staff=["phone", "fax"])
    assert [p.path for p in refused.value.problems] == ["contacts.staff"]
    assert "'fax' is not an address key of a contact" in str(refused.value)


def test_a_channel_reading_a_key_no_contact_has_is_refused_when_it_registers() -> None:
    with pytest.raises(PluginError, match="reads names 'pager'"):
        Channel(name="x", summary="x", parts=("text",), reads=("pager",), connect=lambda s: None,
                addresses=lambda c, s: ())


def test_the_command_prints_the_needs_and_the_warning(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text("""
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["telegram"]
triggers = ["status-change"]

[channels.telegram]
bot_token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

[contacts]
staff = ["phone", "email"]

[[rules]]
id = "staff-heads-up"
trigger = "status-change"
on = "created"
recipient = "staff"
channel = "telegram"
""", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(config)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "reach staff-heads-up (staff): telegram needs addresses.telegram" in result.stdout
    assert "rules[0] (staff-heads-up).channel: no channel of this rule can ever reach its recipient (staff)" in result.stderr
    as_json = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(config), "--json"], capture_output=True,
                             text=True, timeout=300, check=False)
    assert json.loads(as_json.stdout)["reach"] == ["reach staff-heads-up (staff): telegram needs addresses.telegram"]
