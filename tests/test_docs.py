"""The documentation is tested, not trusted: every hook has its section, every rule key is described."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

from attrs import fields

from tidings import hookspecs
from tidings.config import Rule

ROOT = Path(__file__).resolve().parent.parent


def hook_signatures() -> dict[str, str]:
    out = {}
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("tidings_"):
            out[name] = f"{name}{inspect.signature(fn)}".replace("'", "")
    return out


def test_every_hook_has_a_section_headed_by_its_exact_signature() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "docs" / "hooks.md").read_text(), re.M)
    assert sorted(headings) == sorted(hook_signatures().values())


def test_every_hook_docstring_opens_with_a_register_sentence_and_an_example() -> None:
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("tidings_"):
            doc = inspect.getdoc(fn) or ""
            # a broadcast hook registers nothing: it receives
            assert doc.startswith("Receive " if name in hookspecs.BROADCAST_HOOKS else "Register "), name
            assert "@hookimpl" in doc, name


def test_every_common_rule_key_is_documented_in_the_configuration_reference() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text()
    for attribute in fields(Rule):
        if attribute.name != "options":
            assert f"`{attribute.name}`" in reference, attribute.name


def _plugin_readme(module: str) -> str:
    """The README of the distribution a plugin module belongs to (plugins/<name>/README.md)."""
    top = module.split(".")[0]
    for readme in (ROOT / "plugins").glob("*/README.md"):
        if (readme.parent / top).is_dir():
            return readme.read_text(encoding="utf-8")
    return ""


def test_every_key_a_plugin_or_the_core_declares_is_documented() -> None:
    from tidings.config import Links, Location, Settings
    from tidings.plugins import build_registry

    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing: list[str] = []
    for section, cls in (("[tidings]", Settings), ("[links]", Links), ("[locations.ID]", Location)):
        for attribute in fields(cls):
            if attribute.name != "id" and f"`{attribute.name}`" not in reference:
                missing.append(f"{section} {attribute.name} (docs/configuration.md)")
    registry = build_registry({"channels": ["sms", "email", "push"],
                               "triggers": ["status-change", "pre-visit", "post-visit", "repeat-visit"]})
    for name, channel in registry.channels.items():
        readme = _plugin_readme(channel.connect.__module__)
        for attribute in fields(channel.config_type):
            if f"`{attribute.name}`" not in readme:
                missing.append(f"[channels.{name}] {attribute.name} (the plugin's README)")
    for name, trigger in registry.triggers.items():
        for attribute in fields(trigger.rule_type):
            key = attribute.name.rstrip("_")
            if f"`{key}`" not in reference:
                missing.append(f"{name} rule key {key} (docs/configuration.md)")
    assert not missing, "undocumented keys: " + "; ".join(missing)


def _example_plugin() -> Any:
    """The example plugin's module, loaded from docs/example-plugin as an installed distribution would import it."""
    import importlib
    import sys
    folder = str(ROOT / "docs" / "example-plugin")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module("tidings_webhook.plugin")
    finally:
        sys.path.remove(folder)


def test_the_example_plugins_readme_configuration_passes_tidings_check() -> None:
    import tomllib

    from tidings.check import checked
    from tidings.plugins import build_registry

    readme = (ROOT / "docs" / "example-plugin" / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```toml\n(.*?)```", readme, re.S)
    raw = tomllib.loads(block)
    # the plugins the configuration enables, as `tidings check` loads them once the example is installed: the
    # triggers it lists from their entry points, and the webhook (not installed here) from its module
    registry = build_registry({"triggers": raw["plugins"].get("triggers", [])}, extra=[_example_plugin()])
    assert list(raw["plugins"]["channels"]) == list(registry.channels) == ["webhook"]
    deployment = checked(raw, registry=registry, verify=True)
    # the webhook writes no text: its part of role "text" gets the trigger's built-in one
    assert deployment.templates.resolve(deployment.config.rules[0], "webhook", "en") is not None
    assert deployment.warnings == ()
