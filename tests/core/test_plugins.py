"""Discovery through entry points: an out-of-tree plugin is installed, enabled, used, and missed when removed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tidings import Channel, PluginError, Trigger, hookimpl
from tidings.plugins import registry_for
from tidings.testing import LocalHttpService

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["postcard"]
triggers = ["status-change"]

[channels.postcard]
url = "{url}"

[[rules]]
id = "confirmed"
trigger = "status-change"
on = "status_changed"
to = ["confirmed"]
channel = "postcard"
template = "confirmed"

[templates.confirmed]
postcard = "Confirmed, {{{{ client.name }}}}"
"""

EVENT = {"id": "evt-1", "type": "appointment.status_changed", "occurred_at": "2026-03-02T09:00:00+01:00",
         "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                     "client": {"id": "c-ola", "name": "Ola", "consents": {"postcard": True}}},
         "previous": {"status": "pending"}}

DELIVER = """
import json, sys
from tidings.clock import VirtualClock
from tidings.config import load_config
from tidings.converter import parse_aware
from tidings.pipeline import build_pipeline
from tidings.store.memory import MemoryStore
event = json.loads(sys.argv[2])
config = load_config(sys.argv[1])
pipeline = build_pipeline(None, config, MemoryStore(), clock=VirtualClock(parse_aware(event["occurred_at"])))
pipeline.publish(event)
print(pipeline.enqueue_due())
"""


@pytest.fixture
def receiver(start_service: Callable[[LocalHttpService], LocalHttpService]) -> tuple[str, LocalHttpService]:
    """A local HTTP endpoint answering 200 to every request, and keeping them."""
    hooks = start_service(LocalHttpService())
    return f"{hooks.url}/hook", hooks


def run(args: list[str], site: Path | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)


def test_an_installed_plugin_is_listed_with_its_distribution(installed_plugin: Path) -> None:
    result = run(["-m", "tidings.cli", "plugins"], installed_plugin)
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:4] == ["channel", "postcard", "tidings-postcard", "0.1.0"] for line in result.stdout.splitlines())
    assert any(line.split()[:3] == ["trigger", "pre-visit", "tidings-triggers"] for line in result.stdout.splitlines())


def test_an_enabled_out_of_tree_channel_delivers(installed_plugin: Path, receiver: tuple[str, LocalHttpService],
                                                  tmp_path: Path) -> None:
    url, hooks = receiver
    config = tmp_path / "tidings.toml"
    config.write_text(CONFIG.format(url=url))
    result = run(["-c", DELIVER, str(config), json.dumps(EVENT)], installed_plugin)
    assert result.returncode == 0, result.stderr
    received = [{"body": r.json, "key": r.headers["idempotency-key"]} for r in hooks.requests]
    assert [r["body"]["parts"] for r in received] == [{"text": "Confirmed, Ola"}]
    assert received[0]["body"]["to"] == "postcard:c-ola" and len(received[0]["key"]) == 40


def test_a_removed_plugin_is_a_config_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(CONFIG.format(url="http://127.0.0.1:9/"))
    result = run(["-m", "tidings.cli", "check", str(config)], None)
    assert result.returncode == 1
    assert "plugins.channels[0]: no channel plugin named 'postcard' is installed (installed: email, manual, push, sms, telegram, webhook, whatsapp)" in result.stderr


def test_two_plugins_registering_one_name_are_refused() -> None:
    class One:
        @hookimpl
        def tidings_triggers(self) -> Iterator[Trigger]:
            yield Trigger(name="dup", summary="", rule_type=object, plan=lambda e, r, h: (), default_template="dup")

    with pytest.raises(PluginError, match="trigger 'dup' is registered twice"):
        registry_for(One(), One())


def test_a_hook_yielding_the_wrong_type_is_refused_naming_the_plugin() -> None:
    class Wrong:
        @hookimpl
        def tidings_channels(self) -> Iterator[Any]:
            yield Trigger(name="x", summary="", rule_type=object, plan=lambda e, r, h: (), default_template="x")

    with pytest.raises(PluginError, match="expected Channel"):
        registry_for(Wrong())


def test_channel_registration_is_typed() -> None:
    channel = Channel(name="x", summary="", parts=("text",), addresses=lambda c, s: (), connect=lambda s: None)
    assert channel.config_type.__name__ == "NoConfig"


def test_tidings_plugins_reads_a_malformed_plugins_table_without_a_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tidings.cli import plugins
    config = tmp_path / "tidings.toml"
    config.write_text('[plugins]\nchannels = "sms"\ntriggers = 3\ntemplates = [1]\n', encoding="utf-8")
    result = CliRunner().invoke(plugins, ["--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert ["channel", "sms", "tidings-sms"] == next(r for r in rows if r[:2] == ["channel", "sms"])[:3]
    assert next(r for r in rows if r[:2] == ["channel", "sms"])[-1] == "enabled"
    assert next(r for r in rows if r[:2] == ["channel", "email"])[-1] == "inert"
    config.write_text("[plugins\n", encoding="utf-8")
    broken = CliRunner().invoke(plugins, ["--config", str(config)])
    assert broken.exit_code == 1 and isinstance(broken.exception, SystemExit) and "Traceback" not in broken.output


def test_commands_a_plugin_registers_are_in_the_registry_by_name() -> None:
    import click

    from tidings.plugin_types import Command

    @click.command()
    def hello() -> None:
        click.echo("hello")

    class Hello:
        @hookimpl
        def tidings_commands(self) -> Iterator[Command]:
            yield Command(name="hello", summary="Say hello", command=hello)

    registry = registry_for(Hello())
    assert list(registry.commands) == ["hello"] and registry.commands["hello"].command is hello
    with pytest.raises(PluginError, match="command 'hello' is registered twice"):
        registry_for(Hello(), Hello())
    with pytest.raises(PluginError, match="lower-case kebab-case"):
        Command(name="Hello World", summary="", command=hello)
