"""The documentation is tested, not trusted: every hook has its section, every rule key is described."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

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
    from tidings.config import Contacts, Links, Location, Settings
    from tidings.plugins import build_registry

    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing: list[str] = []
    for section, cls in (("[tidings]", Settings), ("[links]", Links), ("[locations.ID]", Location),
                         ("[contacts]", Contacts)):
        for attribute in fields(cls):
            if attribute.name != "id" and f"`{attribute.name}`" not in reference:
                missing.append(f"{section} {attribute.name} (docs/configuration.md)")
    registry = build_registry({"channels": ["sms", "email", "push", "whatsapp", "telegram", "webhook", "manual"],
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



def test_the_example_plugins_readme_configuration_passes_tidings_check(installed_plugin: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    readme = (ROOT / "docs" / "example-plugin" / "README.md").read_text(encoding="utf-8")
    [block] = re.findall(r"```toml\n(.*?)```", readme, re.S)
    (tmp_path / "tidings.toml").write_text(block, encoding="utf-8")
    # `tidings check` where the example is installed as its users install it; the postcard writes no text, and its
    # part of role "text" gets the trigger's built-in one
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(tmp_path / "tidings.toml")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(installed_plugin)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok (1 rule, 0 locations, channels: postcard, triggers: status-change)")
    assert "warning" not in result.stderr


def test_the_plugin_guide_shows_the_example_plugin_its_tests_and_configuration_as_they_are() -> None:
    # the guide's code is the example distribution's (which its own tests run), and its configuration the one
    # the test above passes through `tidings check`
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    example = ROOT / "docs" / "example-plugin"
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert blocks == [(example / "tidings_postcard" / "plugin.py").read_text(encoding="utf-8"),
                      (example / "tests" / "test_plugin.py").read_text(encoding="utf-8")]
    readme = (example / "README.md").read_text(encoding="utf-8")
    [configuration] = re.findall(r"```toml\n(.*?)```", readme, re.S)
    assert f"```toml\n{configuration}```" in guide
    assert len(blocks[0].splitlines()) <= 70, "the guide promises a channel in about 60 lines"
