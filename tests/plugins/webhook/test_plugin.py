"""The webhook channel as the core registers it: its hook, its entry point, verify, and the channel contract."""

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

import tidings_webhook.plugin
from tidings_webhook.config import WebhookConfig

from .conftest import SECRET, Receiver


class TestWebhookChannelContract(ChannelContract):
    """The channel contract against the local receiver, which verifies every signature with standardwebhooks."""

    plugin = tidings_webhook.plugin
    name = "webhook"
    distribution = "tidings-webhook"
    sample_table = {"url": "https://crm.example/hooks/tidings", "secret": SECRET, "event_type": "salon.task",
                    "timeout": 20}

    @pytest.fixture
    def peer(self, receiver: Receiver, webhook_config: WebhookConfig) -> ContractPeer:
        def arrivals() -> list[Arrival]:
            return [Arrival(task.webhook_id, task.payload["data"]["parts"]) for task in receiver.tasks]

        return ContractPeer(settings=webhook_config, contact=Contact(id="c-1"), addresses=("c-1",),
                            arrivals=arrivals, fail_next=lambda transient: receiver.then(503 if transient else 422))


@pytest.fixture
def channel() -> Channel:
    return registry_for(tidings_webhook.plugin).channels["webhook"]


def test_the_channel_renders_a_title_and_a_text(channel: Channel) -> None:
    assert channel.parts == ("title", "text") and channel.config_type is WebhookConfig


def test_a_contact_is_reached_by_its_webhook_address_else_its_id(channel: Channel) -> None:
    assert channel.addresses(Contact(id="s-anna", addresses={"webhook": "crm-user-7"}), None) == ("crm-user-7",)
    assert channel.addresses(Contact(id="s-anna"), None) == ("s-anna",)
    none = channel.addresses(Contact(id=" "), None)
    assert none == () and getattr(none, "reason", None) == "no_id"


def test_registering_checking_and_verifying_never_import_the_http_client() -> None:
    imported = new_imports(
        "import tidings_webhook.plugin as plugin\n"
        "from tidings import Contact\n"
        "[channel] = plugin.tidings_channels()\n"
        "settings = channel.config_type(url='https://crm.example/hooks')\n"
        "channel.addresses(Contact(id='c'), settings)\n"
        "list(channel.verify(settings))\n")
    assert sorted(m for m in imported if m.split(".")[0] in ("httpx", "httpcore") or m == "tidings_webhook.transport") == []


def problems(channel: Channel, settings: WebhookConfig) -> list[tuple[str, bool]]:
    assert channel.verify is not None
    return [(p.path, p.warning) for p in channel.verify(settings)]


def test_verify_needs_a_url_and_warns_of_a_secret_absent_here(channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_WEBHOOK_SECRET", raising=False)
    assert problems(channel, WebhookConfig()) == [("channels.webhook.url", False), ("channels.webhook.secret", True)]
    assert problems(channel, WebhookConfig(url="https://crm.example/hooks", secret=SECRET)) == []
    monkeypatch.setenv("TIDINGS_WEBHOOK_SECRET", SECRET)
    assert problems(channel, WebhookConfig(url="https://crm.example/hooks")) == []


def test_a_malformed_secret_from_the_environment_is_an_error_that_does_not_quote_it(
        channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_WEBHOOK_SECRET", "hunter2-not-whsec")
    [problem] = channel.verify(WebhookConfig(url="https://crm.example/hooks"))  # type: ignore[misc]
    assert (problem.path, problem.warning) == ("$TIDINGS_WEBHOOK_SECRET", False)
    assert "hunter2" not in problem.message and "whsec_" in problem.message


def test_connect_refuses_a_missing_url_or_secret(channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ConfigError) as caught:
        channel.connect(WebhookConfig())
    assert [p.path for p in caught.value.problems] == ["channels.webhook.url", "channels.webhook.secret"]


def test_the_readme_configuration_passes_tidings_check_and_plugins_lists_the_channel(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[3] / "plugins" / "webhook" / "README.md").read_text(encoding="utf-8")
    config = tmp_path / "tidings.toml"
    config.write_text(re.findall(r"```toml\n(.*?)```", readme, re.S)[0], encoding="utf-8")
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}, "TIDINGS_WEBHOOK_SECRET": SECRET}
    checked = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(config)], capture_output=True,
                             text=True, timeout=120, env=environ, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" not in checked.stderr, checked.stderr
    assert checked.stdout.strip().endswith(
        "ok (2 rules, 0 locations, channels: webhook, triggers: repeat-visit, post-visit)")
    listed = subprocess.run([sys.executable, "-m", "tidings.cli", "plugins", "--json", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, check=True)
    [row] = [r for r in json.loads(listed.stdout) if r["name"] == "webhook"]
    assert (row["kind"], row["distribution"], row["state"]) == ("channel", "tidings-webhook", "enabled")
