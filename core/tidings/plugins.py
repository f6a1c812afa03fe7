"""Plugin discovery through entry points, and the immutable registry built from it."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, EntryPoints, entry_points
from types import MappingProxyType, ModuleType
from typing import Any

import pluggy
from attrs import frozen

from tidings import hookspecs
from tidings.errors import PluginError, Problem
from tidings.hookspecs import hookimpl
from tidings.plugin_types import Channel, Command, RegistrationType, TemplateFilter, TemplateGlobal, TemplateTexts, Trigger
from tidings.registry import Registry
from tidings.templates import filters as core_filters

__all__ = ["GROUPS", "PluginInfo", "Registry", "build_registry", "check_enabled", "hookimpl", "installed",
           "plugin_manager", "registry_for", "registry_from"]

GROUPS = {"channels": "tidings.channels", "triggers": "tidings.triggers", "templates": "tidings.templates"}


@frozen
class PluginInfo:
    """One installed plugin as its distribution's metadata describes it."""

    kind: str              # channels | triggers | templates
    name: str              # the entry-point name
    distribution: str
    version: str
    entry_point: EntryPoint


# each group's entry points, read once per process (and again if sys.path changes): a command
# asks for them several times while it starts, and each full scan of site-packages costs tens of ms
_scanned: dict[tuple[tuple[str, ...], str], EntryPoints] = {}


def _entry_points(group: str) -> EntryPoints:
    key = (tuple(sys.path), group)
    if key not in _scanned:
        _scanned[key] = entry_points(group=group)
    return _scanned[key]


def installed(kind: str) -> dict[str, list[PluginInfo]]:
    """Installed plugins of one kind by entry-point name (a list: two distributions may claim a name)."""
    found: dict[str, list[PluginInfo]] = {}
    for ep in _entry_points(GROUPS[kind]):
        dist = ep.dist
        found.setdefault(ep.name, []).append(PluginInfo(
            kind=kind, name=ep.name,
            distribution=dist.metadata["Name"] if dist else "?", version=dist.version if dist else "?",
            entry_point=ep))
    return found


def check_enabled(kind: str, names: Sequence[str], *, path: str) -> list[Problem]:
    """Problems with the plugins a config enables: missing ones, and names two distributions claim."""
    available = installed(kind)
    problems = []
    for i, name in enumerate(names):
        claims = available.get(name, [])
        singular = kind[:-1]
        if not claims:
            choices = ", ".join(sorted(available)) or "none"
            problems.append(Problem(f"{path}[{i}]", f"no {singular} plugin named {name!r} is installed (installed: {choices})"))
        elif len({c.distribution for c in claims}) > 1:
            both = " and ".join(sorted(f"{c.distribution} {c.version}" for c in claims))
            problems.append(Problem(f"{path}[{i}]", f"the {singular} name {name!r} is claimed by {both}: uninstall one"))
    return problems


def plugin_manager(modules: Iterable[ModuleType | object]) -> pluggy.PluginManager:
    """A fresh plugin manager with tidings' hookspecs and the given plugin modules registered."""
    pm = pluggy.PluginManager("tidings")
    pm.add_hookspecs(hookspecs)
    pm.register(core_filters, name="tidings.templates.filters")   # the core's own template filters and globals
    for module in modules:
        if pm.get_name(module) is None and not pm.is_registered(module):
            pm.register(module)
    return pm


def registry_from(pm: pluggy.PluginManager, *, names: Mapping[int, str] | None = None) -> Registry:
    """Call every registration hook once and collect the results, checking names and types."""
    channels: dict[str, Channel] = {}
    triggers: dict[str, Trigger] = {}
    filters: dict[str, TemplateFilter] = {}
    globals_: dict[str, TemplateGlobal] = {}
    texts: list[TemplateTexts] = []
    commands: dict[str, Command] = {}

    def collect(hook: Any, expected: type[RegistrationType], into: dict[str, Any] | list[Any]) -> None:
        for impl in hook.get_hookimpls():
            owner = pm.get_name(impl.plugin) or repr(impl.plugin)
            for obj in impl.function() or ():
                if not isinstance(obj, expected):
                    raise PluginError(f"plugin {owner!r} yielded {obj!r} from {hook.name}; expected {expected.__name__}")
                if isinstance(into, list):
                    into.append(obj)
                    continue
                name: str = obj.name
                if name in into:
                    raise PluginError(f"{expected.__name__.lower()} {name!r} is registered twice (again by {owner!r})")
                into[name] = obj

    collect(pm.hook.tidings_channels, Channel, channels)
    collect(pm.hook.tidings_triggers, Trigger, triggers)
    collect(pm.hook.tidings_template_filters, TemplateFilter, filters)
    collect(pm.hook.tidings_template_globals, TemplateGlobal, globals_)
    collect(pm.hook.tidings_template_texts, TemplateTexts, texts)
    collect(pm.hook.tidings_commands, Command, commands)
    # the broadcast hook is not called here: its implementations are kept, and the core calls each one
    # by itself inside a guard (`tidings.pipeline.deliverylog.DeliveryLog.record`)
    recorders = tuple((pm.get_name(impl.plugin) or repr(impl.plugin), impl.function)
                      for impl in pm.hook.tidings_delivery_recorded.get_hookimpls())
    return Registry(
        channels=MappingProxyType(channels), triggers=MappingProxyType(triggers),
        filters=MappingProxyType(filters), globals=MappingProxyType(globals_), texts=tuple(texts),
        plugins=MappingProxyType({name: plugin for name, plugin in pm.list_name_plugin()}), recorders=recorders,
        commands=MappingProxyType(commands))


def load_enabled(enabled: Mapping[str, Sequence[str]]) -> list[ModuleType]:
    """Import exactly the plugins a config enables, by entry point; an unlisted one is never imported."""
    problems: list[Problem] = []
    for kind, names in enabled.items():
        problems.extend(check_enabled(kind, names, path=f"plugins.{kind}"))
    if problems:
        raise PluginError("\n".join(str(p) for p in problems))
    modules = []
    for kind, names in enabled.items():
        available = installed(kind)
        for name in names:
            module = available[name][0].entry_point.load()
            modules.append(module)
    return modules


def build_registry(enabled: Mapping[str, Sequence[str]], *, extra: Iterable[object] = ()) -> Registry:
    """The registry of the enabled plugins (entry-point names per kind), plus `extra` plugin objects."""
    pm = plugin_manager([*load_enabled(enabled), *extra])
    registry = registry_from(pm)
    for kind in ("channels", "triggers"):
        registered = getattr(registry, kind)
        for name in enabled.get(kind, ()):
            if name not in registered:
                raise PluginError(f"the {kind[:-1]} plugin {name!r} registered no {kind[:-1]} named {name!r}")
    return registry


def registry_for(*modules: object) -> Registry:
    """A registry of just these plugin modules, for tests: ``registry_for(tidings_triggers.pre_visit)``."""
    return registry_from(plugin_manager(modules))


def load_registry(enabled: Mapping[str, Sequence[str]]) -> tuple[Registry, list[Problem]]:
    """The registry of what a configuration's ``[plugins]`` table enables, and the problems at their places.

    A name that is not installed (or that two distributions claim) is a problem at
    ``plugins.<kind>[i]`` and is left out, so the rest of the configuration is still checked
    against the plugins that are there.
    """
    problems = [p for kind, names in enabled.items() for p in check_enabled(kind, names, path=f"plugins.{kind}")]
    usable = {kind: [n for i, n in enumerate(names) if not any(p.path == f"plugins.{kind}[{i}]" for p in problems)]
              for kind, names in enabled.items()}
    try:
        return build_registry(usable), problems
    except PluginError as e:
        return build_registry({}), [*problems, Problem("plugins", str(e))]
