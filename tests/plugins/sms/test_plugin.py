"""The SMS channel as the core registers it: through its hook and its entry point."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from tidings.errors import ConfigError
from tidings.plugin_types import Channel

import tidings_sms.plugin
from tidings_sms.addresses import sms_addresses
from tidings_sms.config import SmsConfig


def test_the_plugin_registers_one_sms_channel_with_one_text_part(sms_channel: Channel) -> None:
    assert list(tidings_sms.plugin.tidings_channels()) == [sms_channel]
    assert sms_channel.name == "sms"
    assert sms_channel.parts == ("text",)
    assert sms_channel.config_type is SmsConfig
    assert sms_channel.addresses is sms_addresses
    assert sms_channel.summary


def test_the_entry_point_named_sms_loads_the_plugin_module() -> None:
    [entry_point] = [ep for ep in entry_points(group="tidings.channels") if ep.name == "sms"]
    assert entry_point.value == "tidings_sms.plugin"
    assert entry_point.load() is tidings_sms.plugin
    assert entry_point.dist is not None and entry_point.dist.metadata["Name"] == "tidings-sms"


def test_registering_and_checking_never_import_the_http_client() -> None:
    # `tidings check` and `simulate` use addresses and describe, but never connect
    script = (
        "import sys\n"
        "import tidings\n"
        "before = set(sys.modules)\n"
        "import tidings_sms.plugin as plugin\n"
        "from tidings import Contact\n"
        "[channel] = plugin.tidings_channels()\n"
        "channel.addresses(Contact(id='c', phone='+48600100200'), channel.config_type(default_region='PL'))\n"
        "channel.describe({'text': 'hi'})\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('httpx', 'httpcore')\n"
        "             or m in ('tidings_sms.twilio', 'tidings_sms.json_api', 'tidings_sms.http')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def problems(channel: Channel, settings: SmsConfig) -> list[tuple[str, bool]]:
    assert channel.verify is not None
    return [(p.path, p.warning) for p in channel.verify(settings)]


def test_verify_finds_what_the_twilio_table_lacks_and_warns_of_a_token_absent_here(
        sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    assert problems(sms_channel, SmsConfig()) == [
        ("channels.sms.account_sid", False), ("channels.sms.auth_token", True), ("channels.sms.sender", False)]
    complete = SmsConfig(account_sid="AC1", sender="+48600000000")
    [warning] = sms_channel.verify(complete)  # type: ignore[misc]
    assert warning.message.endswith("is not set here: put $TIDINGS_SMS_AUTH_TOKEN in the worker's environment "
                                    "(or auth_token in this table)")
    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", "secret")
    assert problems(sms_channel, complete) == []


def test_verify_of_the_json_provider_needs_its_url_and_a_token_only_when_headers_use_it(
        sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    assert problems(sms_channel, SmsConfig(provider="json")) == [("channels.sms.url", False)]
    assert problems(sms_channel, SmsConfig(provider="json", url="https://sms.example/send")) == []
    assert problems(sms_channel, SmsConfig(provider="json", url="https://sms.example/send",
                                           headers={"Authorization": "Bearer {auth_token}"})) == [("channels.sms.auth_token", True)]


def test_connect_refuses_what_verify_only_warns_of(sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        sms_channel.connect(SmsConfig(account_sid="AC1", sender="+48600000000"))
    assert [(p.path, p.warning) for p in caught.value.problems] == [("channels.sms.auth_token", False)]


def test_verifying_imports_no_http_client() -> None:
    script = (
        "import sys\n"
        "import tidings\n"
        "before = set(sys.modules)\n"
        "import tidings_sms.plugin as plugin\n"
        "[channel] = plugin.tidings_channels()\n"
        "list(channel.verify(channel.config_type(provider='json', url='https://sms.example/send')))\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('httpx', 'httpcore')\n"
        "             or m in ('tidings_sms.twilio', 'tidings_sms.json_api', 'tidings_sms.http')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
