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
