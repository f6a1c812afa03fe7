"""A Deployment: the configuration, its plugins and its templates, loaded once and handed to every part."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.check import checked
from tidings.deployment import Deployment
from tidings.errors import ConfigError
from tidings.preview import preview
from tidings.simulate import simulate

CONFIG = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["sms"]
triggers = ["pre-visit"]

[[rules]]
id = "reminder"
trigger = "pre-visit"
before = "24h"
channel = "sms"
template = "reminder"

[templates.reminder]
sms = "See you {{ subject.start | datetime }}, {{ client.nmae }}"
"""

EVENT = ('{"id": "e-1", "type": "appointment.created", "occurred_at": "2026-03-01T10:00:00+01:00", '
         '"subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", '
         '"client": {"id": "c-1", "name": "Ola", "phone": "+48600100200", "consents": {"sms": true}}}}')


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loading_structures_the_configuration_with_its_plugins_and_renders_no_template(tmp_path: Path) -> None:
    # the template reads a key a client has not: only checking renders it, loading does not
    deployment = Deployment.load(write(tmp_path))
    assert [rule.id for rule in deployment.config.rules] == ["reminder"]
    assert set(deployment.registry.channels) == {"sms"} and set(deployment.registry.triggers) == {"pre-visit"}
    assert deployment.templates.names() >= {"reminder", "pre-visit"}
    assert deployment.warnings == ()


def test_checking_the_deployment_finds_what_loading_leaves_to_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        checked(Deployment.load(write(tmp_path)))
    assert [p.path for p in caught.value.problems] == ["templates.reminder.sms"]
    assert "client has no 'nmae' (did you mean 'name'?)" in str(caught.value)


def test_a_document_that_cannot_be_structured_is_refused_naming_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Deployment.load(write(tmp_path, CONFIG.replace('before = "24h"', 'before = "24x"').replace('"sms"]', '"smss"]')))
    assert [p.path for p in caught.value.problems] == ["plugins.channels[0]", "rules[0] (reminder).channel",
                                                       "rules[0] (reminder).before"]


def test_one_deployment_serves_preview_and_simulate(tmp_path: Path) -> None:
    deployment = Deployment.load(write(tmp_path, CONFIG.replace("client.nmae", "client.name")))
    assert "See you Mar 10, 2026, 2:00 PM, Ola" in preview(deployment, "reminder")
    [sent] = simulate(deployment, [EVENT])
    assert sent["text"] == "See you Mar 10, 2026, 2:00 PM, Ola" and sent["at"] == "2026-03-09T13:00:00Z"


def test_a_structured_config_still_gets_its_enabled_plugins(tmp_path: Path) -> None:
    from tidings.config import load_config
    config = load_config(write(tmp_path, CONFIG.replace("client.nmae", "client.name")))
    deployment = Deployment.from_config(config)
    assert deployment.config is config and set(deployment.registry.triggers) == {"pre-visit"}
    [sent] = simulate(config, [EVENT])   # the older entry points take a Config as they did
    assert sent["rule"] == "reminder"
