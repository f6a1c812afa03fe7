"""The deployer's texts: ``[templates.NAME]`` tables and the ``[tidings].templates`` directory.

Deployers write texts per channel and part, by the channel's own names: ``sms = "..."`` (a
string is the part named ``text``, else the channel's first part), ``email = {subject, text,
html}``, ``push = {title, body}``, the same keys in ``[templates.NAME.LOCALE]`` subtables, and in
the directory ``DIR/NAME/LOCALE/CHANNEL.PART`` files (``CHANNEL.txt`` holds the part ``text``;
``DIR/NAME/`` itself holds the texts for every other locale). A text the directory holds wins over
the same text in a table. What cannot be read is a problem at its place, never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import define, field

from tidings.errors import Problem
from tidings.templates.locales import LOCALE, normalize_locale
from tidings.templates.shapes import suggest

if TYPE_CHECKING:
    from tidings.registry import Registry
    from tidings.rules import Config

__all__ = ["FILES", "DeployerTexts", "Places", "Sources", "Texts"]

FILES = {"txt": "text"}      # sms.txt and email.txt hold the part "text"; other files are CHANNEL.PART
Texts = dict[str, dict[str, str]]                 # channel -> part -> source
Sources = dict[str, dict[str | None, Texts]]      # name -> locale (None: unlocalised) -> texts
Places = dict[tuple[str, str | None, str, str], str]   # (name, locale, channel, part) -> where it is written


@define
class DeployerTexts:
    """Every text a deployer wrote, where each is written, and what could not be read."""

    sources: Sources = field(factory=dict)
    places: Places = field(factory=dict)
    problems: list[Problem] = field(factory=list)

    @classmethod
    def read(cls, config: Config, registry: Registry) -> DeployerTexts:
        """The texts of a configuration's tables and templates directory, for the channels it may use."""
        found = cls()
        _from_tables(config, registry, found.sources, found.places, found.problems)
        if config.tidings.templates:
            base = (config.path.parent if config.path is not None else Path.cwd()) / config.tidings.templates
            _from_directory(base, config, registry, found.sources, found.places, found.problems)
        return found


def _channel_names(config: Config, registry: Registry) -> tuple[str, ...]:
    """The channels a deployer may write texts for: the enabled ones and those registered."""
    return tuple(dict.fromkeys([*config.plugins.channels, *registry.channels]))


def _registered_parts(registry: Registry, channel: str) -> tuple[str, ...] | None:
    found = registry.channels.get(channel)
    return found.parts if found is not None else None


def _texts(config: Config, registry: Registry, table: Mapping[str, Any], where: str, name: str, locale: str | None,
           places: dict[tuple[str, str | None, str, str], str], problems: list[Problem]) -> tuple[Texts, dict[str, Any]]:
    """The channel texts of one table; returns them and the keys that are not channels (locales)."""
    texts: Texts = {}
    rest: dict[str, Any] = {}
    channels = _channel_names(config, registry)
    for key, value in table.items():
        if key not in channels:
            rest[key] = value
            continue
        parts = _registered_parts(registry, key) or ("text",)
        if isinstance(value, str):
            part = "text" if "text" in parts else parts[0]
            texts[key] = {part: value}
            places[(name, locale, key, part)] = f"{where}.{key}"
        elif isinstance(value, Mapping):
            for part, source in value.items():
                if part not in parts:
                    problems.append(Problem(f"{where}.{key}.{part}", f"{key} has no part {part!r}{suggest(part, parts)}"))
                elif not isinstance(source, str):
                    problems.append(Problem(f"{where}.{key}.{part}", "must be a string (a Jinja template)"))
                else:
                    texts.setdefault(key, {})[part] = source
                    places[(name, locale, key, part)] = f"{where}.{key}.{part}"
        else:
            problems.append(Problem(f"{where}.{key}", f"must be a string or a table of parts ({', '.join(parts)})"))
    return texts, rest


def _from_tables(config: Config, registry: Registry, into: Sources, places: dict[tuple[str, str | None, str, str], str],
                 problems: list[Problem]) -> None:
    channels = _channel_names(config, registry)
    for name, table in config.templates.items():
        where = f"templates.{name}"
        if not isinstance(table, Mapping):
            problems.append(Problem(where, f"must be a table: [templates.NAME] with {', '.join(channels)} or locale subtables"))
            continue
        texts, rest = _texts(config, registry, table, where, name, None, places, problems)
        if texts:
            into.setdefault(name, {})[None] = texts
        for key, value in rest.items():
            if LOCALE.match(key) and isinstance(value, Mapping):
                locale = normalize_locale(key)
                localised, unknown = _texts(config, registry, value, f"{where}.{key}", name, locale, places, problems)
                into.setdefault(name, {})[locale] = localised
                for bad in unknown:
                    problems.append(Problem(f"{where}.{key}.{bad}", f"{bad!r} is not a channel{suggest(bad, channels)}"))
            else:
                problems.append(Problem(f"{where}.{key}", f"{key!r} is neither a channel{suggest(key, channels)[:-1]}) "
                                                          "nor a locale subtable like [templates.NAME.pl]"))


def _from_directory(base: Path, config: Config, registry: Registry, into: Sources,
                    places: dict[tuple[str, str | None, str, str], str], problems: list[Problem]) -> None:
    if not base.is_dir():
        problems.append(Problem("tidings.templates", f"{str(base)!r} is not a directory"))
        return
    channels = _channel_names(config, registry)

    def load(folder: Path, name: str, locale: str | None) -> None:
        for file in sorted(folder.iterdir()):
            if file.is_dir():
                continue
            channel, _, ext = file.name.partition(".")
            part = FILES.get(ext, None if ext == "text" else ext)
            parts = _registered_parts(registry, channel)
            where = str(file.relative_to(base.parent)) if base.parent in file.parents else str(file)
            if channel not in channels or parts is None or part is None or part not in parts:
                allowed = [f"{c}.{'txt' if p == 'text' else p}" for c in channels for p in (_registered_parts(registry, c) or ())]
                problems.append(Problem(where, f"unknown template file {file.name!r}{suggest(file.name, allowed)}"))
                continue
            try:
                source = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                problems.append(Problem(where, f"cannot be read: {e}"))
                continue
            into.setdefault(name, {}).setdefault(locale, {}).setdefault(channel, {})[part] = source.rstrip("\n")
            places[(name, locale, channel, part)] = where

    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        load(folder, folder.name, None)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not LOCALE.match(sub.name):
                problems.append(Problem(str(sub.relative_to(base.parent)), f"{sub.name!r} is not a locale (like pl or pt_BR)"))
                continue
            load(sub, folder.name, normalize_locale(sub.name))
