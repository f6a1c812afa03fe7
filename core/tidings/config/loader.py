"""Reading a deployer's TOML configuration (PRODUCT §4) into a `Config`, every problem collected at once.

Loading only structures: each table becomes its model (`tidings.rules`), each channel's table its
plugin's ``config_type`` and each rule's trigger keys its ``rule_type``, so the plugins a
configuration enables are loaded first. What needs more than the document and its plugins (templates
rendered on a sample, what each channel finds in its settings) is `tidings.check`'s work.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import frozen
from cattrs.errors import BaseValidationError

from tidings.config.rule_table import at, structure_rule, unknown_key
from tidings.converter import converter, problems_from, wrong_type
from tidings.durations import Duration
from tidings.errors import ConfigError, Problem
from tidings.hours import WeekHours
from tidings.links import check_secret
from tidings.plugins import installed, load_registry
from tidings.registry import Registry
from tidings.rules import Config, Contacts, Links, Location, PluginsTable, Rule, Settings

__all__ = ["Loaded", "load_config", "parse_config", "read_config", "read_toml"]

TABLES = ("tidings", "plugins", "channels", "locations", "rules", "templates", "links", "contacts")


def _zone(value: Any, _: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (like \"Europe/Warsaw\")") from None


converter.register_structure_hook(ZoneInfo, _zone)
converter.register_structure_hook(Duration, lambda v, _: Duration.parse(v))
converter.register_structure_hook(WeekHours, lambda v, _: WeekHours.parse(v))
converter.register_unstructure_hook(Duration, str)
converter.register_unstructure_hook(ZoneInfo, str)


@frozen
class Loaded:
    """A configuration as far as it could be structured, the registry it was structured with, and its problems.

    With problems, `config` holds what was valid (a rule with a mistake is left out), so that
    `tidings check` can go on to check the rest and report everything at once.
    """

    config: Config
    registry: Registry
    problems: tuple[Problem, ...]


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML document at `path`; ConfigError naming the file if it cannot be read or parsed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([Problem(str(path), f"cannot be read: {e.strerror}")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([Problem(str(path), f"is not valid TOML: {e}")]) from None


def load_config(path: str | os.PathLike[str], *, registry: Registry | None = None) -> Config:
    """Read and structure a TOML configuration; raises ConfigError listing every problem (see `parse_config`)."""
    return parse_config(read_toml(path), registry=registry, path=Path(path))


def parse_config(raw: Mapping[str, Any], *, registry: Registry | None = None, path: Path | None = None) -> Config:
    """Structure a configuration already read into a dict; raises ConfigError listing every problem.

    Args:
        registry: the plugins to structure it with; by default those its ``[plugins]`` table enables,
            loaded from their entry points.
    """
    loaded = read_config(raw, registry=registry, path=path)
    if loaded.problems:
        raise ConfigError(loaded.problems)
    return loaded.config


def read_config(raw: Mapping[str, Any], *, registry: Registry | None = None, path: Path | None = None) -> Loaded:
    """Structure a configuration, collecting every problem instead of raising.

    Any TOML document gives a Config and a list of problems, never an exception: a table written
    as a string, an array where a table belongs, a number where a name belongs are each a problem
    at their place (tests/core/test_config.py checks this on generated documents).
    """
    problems: list[Problem] = []

    def structure(value: Any, cls: Any, where: str, default: Any = None) -> Any:
        try:
            return converter.structure(value, cls)
        except BaseValidationError as e:
            problems.extend(at(where, p) for p in problems_from(e))
        except (ValueError, TypeError) as e:
            problems.append(Problem(where, str(e)))
        return default

    def table(key: str, shape: str) -> Mapping[str, Any]:
        value = raw.get(key, {})
        if isinstance(value, Mapping):
            return value
        problems.append(Problem(key, wrong_type(value, shape)))
        return {}

    for key in raw:
        if key not in TABLES:
            problems.append(Problem(key, unknown_key(key, TABLES)))

    settings = structure(raw.get("tidings", {}), Settings, "tidings", Settings())
    plugins = structure(raw.get("plugins", {}), PluginsTable, "plugins", PluginsTable())
    links = _links(raw, structure(raw.get("links", {}), Links, "links", Links()), problems)
    contacts = structure(raw.get("contacts", {}), Contacts, "contacts", Contacts())

    if registry is None:
        registry, plugin_problems = load_registry(plugins.enabled())
        problems.extend(plugin_problems)
        available = sorted(installed("channels"))
    else:
        for kind in ("channels", "triggers"):
            for i, name in enumerate(getattr(plugins, kind)):
                if name not in getattr(registry, kind):
                    problems.append(Problem(f"plugins.{kind}[{i}]", f"no {kind[:-1]} plugin named {name!r} is registered "
                                                                     f"(registered: {', '.join(sorted(getattr(registry, kind))) or 'none'})"))
        available = sorted(registry.channels)

    locations: dict[str, Location] = {}
    for loc_id, loc_table in table("locations", "a table of [locations.<id>] tables").items():
        loc = structure({"id": loc_id, **loc_table} if isinstance(loc_table, Mapping) else loc_table, Location, f"locations.{loc_id}")
        if loc is not None:
            locations[loc_id] = loc

    channels: dict[str, Any] = {}
    raw_channels = table("channels", "a table of [channels.<name>] tables")
    for name in plugins.channels:
        channel = registry.channels.get(name)
        if channel is not None:
            channels[name] = structure(raw_channels.get(name, {}), channel.config_type, f"channels.{name}")
    for name in raw_channels:
        if name not in plugins.channels:
            problems.append(Problem(f"channels.{name}", f"settings for a channel that is not enabled in [plugins].channels (enabled: {', '.join(plugins.channels) or 'none'})"))

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    raw_rules = raw.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append(Problem("rules", wrong_type(raw_rules, "an array of [[rules]] tables")))
        raw_rules = []
    for i, rule_table in enumerate(raw_rules):
        # duplicates are found on the raw ids: a rule with other mistakes still claims its id
        rule_id = rule_table.get("id") if isinstance(rule_table, Mapping) else None
        if isinstance(rule_id, str) and rule_id:
            if rule_id in seen:
                problems.append(Problem(f"rules[{i}] ({rule_id}).id", f"duplicate rule id {rule_id!r} (first used by rules[{seen[rule_id]}])"))
            seen.setdefault(rule_id, i)
        rule = structure_rule(i, rule_table, registry, plugins, locations, problems, available=available)
        if rule is not None:
            rules.append(rule)

    templates = table("templates", "a table of [templates.<name>] tables")
    config = Config(tidings=settings, plugins=plugins, locations=locations, rules=tuple(rules),
                    channels=channels, templates=dict(templates), links=links, path=path,
                    contacts=contacts)
    return Loaded(config=config, registry=registry, problems=tuple(problems))


def _links(raw: Mapping[str, Any], links: Links, problems: list[Problem]) -> Links:
    """The ``[links]`` table with its secret from ``TIDINGS_LINK_SECRET`` when it has none; a weak secret is a problem."""
    if not links.secret and os.environ.get("TIDINGS_LINK_SECRET"):
        links = Links(base_url=links.base_url, secret=os.environ["TIDINGS_LINK_SECRET"], ttl=links.ttl)
    if links.secret:
        weak = check_secret(links.secret)
        if weak is not None:
            where = "links.secret" if "secret" in (raw.get("links") or {}) else "links (TIDINGS_LINK_SECRET)"
            problems.append(Problem(where, weak))
    return links
