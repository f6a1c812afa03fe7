"""The Telegram channel as the core registers it: its hooks, its entry point, and the channel contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tidings import Contact, registry_for
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings.testing import Arrival, ChannelContract, ContractPeer, new_imports

import tidings_telegram.plugin
from tidings_telegram.config import TelegramConfig
from tidings_telegram.start import telegram_start_url

from .conftest import CHAT, TOKEN, BotApi, bot_error

SECRET = "s" * 32


class TestTelegramChannelContract(ChannelContract):
    """The channel contract against the local Bot API."""

    plugin = tidings_telegram.plugin
    name = "telegram"
    distribution = "tidings-telegram"
    sample_table = {"bot_token": TOKEN, "bot_username": "SalonAnnaBot", "start_secret": SECRET, "start_ttl": "14d",
                    "bold_title": True, "link_preview": False}

    keyless = True   # the Bot API takes no idempotency key and echoes nothing of ours: arrivals are counted

    @pytest.fixture
    def peer(self, bot_api: BotApi, telegram_config: TelegramConfig) -> ContractPeer:
        def arrivals() -> list[Arrival]:
            # what the chat shows: the bold title, a blank line, the text
            return [Arrival("", {"title": d.bold[0], "text": d.text.split("\n\n", 1)[1]}) for d in bot_api.delivered]

        def fail_next(transient: bool) -> None:
            if transient:
                bot_api.then(429, bot_error(429, "Too Many Requests: retry after 1", retry_after=1))
            else:
                bot_api.then(403, bot_error(403, "Forbidden: bot was blocked by the user"))

        return ContractPeer(settings=telegram_config, contact=Contact(id="c-1", addresses={"telegram": str(CHAT)}),
                            addresses=(str(CHAT),), arrivals=arrivals, fail_next=fail_next)


@pytest.fixture
def channel() -> Channel:
    return registry_for(tidings_telegram.plugin).channels["telegram"]


def test_the_plugin_registers_the_channel_and_its_link_global(channel: Channel) -> None:
    registry = registry_for(tidings_telegram.plugin)
    assert channel.parts == ("title", "text")   # the built-in texts of roles title and text, as an e-mail's
    assert channel.config_type is TelegramConfig
    found = registry.globals["telegram_start_url"]
    assert found.value is telegram_start_url and found.needs_context


def test_registering_checking_and_verifying_never_import_the_http_client() -> None:
    imported = new_imports(
        "import tidings_telegram.plugin as plugin\n"
        "from tidings import Contact\n"
        "[channel] = plugin.tidings_channels()\n"
        "settings = channel.config_type(bot_username='SalonAnnaBot')\n"
        "channel.addresses(Contact(id='c', addresses={'telegram': '1'}), settings)\n"
        "list(channel.verify(settings))\n")
    assert sorted(m for m in imported if m.split(".")[0] in ("httpx", "httpcore") or m == "tidings_telegram.transport") == []


def problems(channel: Channel, settings: TelegramConfig) -> list[tuple[str, bool]]:
    assert channel.verify is not None
    return [(p.path, p.warning) for p in channel.verify(settings)]


def test_verify_warns_of_a_token_absent_here_and_of_a_link_secret_only_when_links_are_wanted(
        channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TIDINGS_TELEGRAM_START_SECRET", raising=False)
    assert problems(channel, TelegramConfig()) == [("channels.telegram.bot_token", True)]
    assert problems(channel, TelegramConfig(bot_token=TOKEN, bot_username="SalonAnnaBot")) == [
        ("channels.telegram.start_secret", True)]
    assert problems(channel, TelegramConfig(bot_token=TOKEN, bot_username="SalonAnnaBot", start_secret="short")) == [
        ("channels.telegram.start_secret", False)]
    monkeypatch.setenv("TIDINGS_TELEGRAM_START_SECRET", SECRET)
    monkeypatch.setenv("TIDINGS_TELEGRAM_BOT_TOKEN", TOKEN)
    assert problems(channel, TelegramConfig(bot_username="SalonAnnaBot")) == []


def test_a_malformed_token_from_the_environment_is_an_error_that_does_not_quote_it(
        channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_TELEGRAM_BOT_TOKEN", "not/a-token")
    [problem] = channel.verify(TelegramConfig())  # type: ignore[misc]
    assert (problem.path, problem.warning) == ("$TIDINGS_TELEGRAM_BOT_TOKEN", False)
    assert "not/a-token" not in problem.message


def test_connect_refuses_a_missing_token(channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_TELEGRAM_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        channel.connect(TelegramConfig())
    assert [p.path for p in caught.value.problems] == ["channels.telegram.bot_token"]


def test_the_readme_configuration_passes_tidings_check_and_plugins_lists_the_channel(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[3] / "plugins" / "telegram" / "README.md").read_text(encoding="utf-8")
    config = tmp_path / "tidings.toml"
    config.write_text(re.findall(r"```toml\n(.*?)```", readme, re.S)[0], encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    checked = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(config)], capture_output=True,
                             text=True, timeout=120, env=environ, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith(
        "ok (2 rules, 0 locations, channels: telegram, sms, triggers: status-change, pre-visit)")
    listed = subprocess.run([sys.executable, "-m", "tidings.cli", "plugins", "--json", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, check=True)
    [row] = [r for r in json.loads(listed.stdout) if r["name"] == "telegram"]
    assert (row["kind"], row["distribution"], row["state"]) == ("channel", "tidings-telegram", "enabled")
