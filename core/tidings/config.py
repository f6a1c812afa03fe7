"""The deployer's TOML configuration (PRODUCT §4), validated with every problem collected at once."""

from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from attrs import field, fields, frozen
from cattrs.errors import BaseValidationError

from tidings.converter import converter, problems_from, wrong_type
from tidings.durations import Duration, not_zero
from tidings.errors import ConfigError, PluginError, Problem
from tidings.hours import WeekHours
from tidings.models import APPOINTMENT_STATUSES
from tidings.plugin_types import STATUSES
from tidings.plugins import Registry, build_registry, check_enabled, installed

__all__ = ["Config", "Location", "Rule", "Settings", "load_config", "parse_config", "converter", "channel_order"]

KINDS = ("appointment", "order", "lead")
RECIPIENTS = ("client", "staff")
POLICIES = {"prefer_sms": ("sms", "email"), "prefer_email": ("email", "sms")}


_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _namespace(value: str, attribute: Any) -> None:
    if not isinstance(value, str) or not _NAMESPACE.match(value):
        raise ValueError(f"{value!r} is not a namespace (1 to 40 lower-case letters, digits, '-' or '_')", attribute)


@frozen
class Settings:
    """The ``[tidings]`` table."""

    timezone: ZoneInfo = ZoneInfo("UTC")
    locale: str = "en"
    broker: str = "memory://"
    store: str = "memory://"
    templates: str | None = None          # a directory of template files, relative to the config file
    # how long a claimed message waits for its dispatch before it is claimed again; 0 would claim it again at once
    lease: Duration = field(default=Duration(5, "m"), validator=not_zero("a lease of zero would hand every due message "
                                                                        "to a second scheduler while the first sends it"))
    namespace: str = field(default="tidings", validator=lambda _, attribute, value: _namespace(value, attribute))
    strict_events: bool = False           # reject events with keys the contract does not define (else: warn once per path)


@frozen
class PluginsTable:
    """The ``[plugins]`` table: an allowlist of entry-point names per kind."""

    channels: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()


def _region(instance: Any, attribute: Any, value: str) -> None:
    if value and not (len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError(f"{value!r} is not an ISO 3166 region code (two capital letters, like \"PL\")", attribute)


@frozen
class Location:
    """A place where visits happen, with its zone and opening hours."""

    id: str = ""
    name: str = ""
    address: str = ""
    phone: str = ""
    timezone: ZoneInfo | None = None
    hours: WeekHours | None = None
    region: str = field(default="", validator=_region)   # ISO 3166: how national phone numbers are read here

    def zone_region(self) -> str:
        """The country of the location's time zone (``Europe/Kyiv`` → ``UA``), or "" when it has none."""
        return zone_countries().get(self.timezone.key, "") if self.timezone is not None else ""


@functools.cache
def zone_countries() -> dict[str, str]:
    """Time zone → ISO 3166 country, from the IANA data that the tzdata package ships.

    ``zone.tab`` names the country of every canonical zone; the legacy names that tzdata keeps as
    links (``Europe/Kiev``, ``Europe/Uzhgorod``, ``US/Eastern``, ``Poland``) are not in it, so each
    link of ``tzdata.zi`` takes the country of the zone it points to. A name that ``zone.tab``
    lists wins over its link (``Europe/Vaduz`` is a link to ``Europe/Zurich`` but is ``LI``).
    """
    try:
        zoneinfo = resources.files("tzdata").joinpath("zoneinfo")
        table = zoneinfo.joinpath("zone.tab").read_text(encoding="utf-8")
        compiled = zoneinfo.joinpath("tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    out: dict[str, str] = {}
    for line in table.splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            out[zone] = country
    links: dict[str, str] = {}   # link name -> target, from "L TARGET NAME" lines
    for line in compiled.splitlines():
        if line.startswith("L "):
            _, target, name = line.split()[:3]
            links[name] = target
    for name, target in links.items():
        for _ in range(len(links)):   # tzdata's links point at zones, but zic allows chains: follow them
            if target not in links:
                break
            target = links[target]
        if name not in out and target in out:
            out[name] = out[target]
    return out


@frozen
class Links:
    """The ``[links]`` table: signed confirm / cancel links (PRODUCT §10)."""

    base_url: str = ""
    secret: str = field(default="", repr=False)     # or TIDINGS_LINK_SECRET; never logged
    ttl: Duration = field(default=Duration(7, "d"), validator=not_zero("a link valid for no time cannot be followed"))


@frozen
class Rule:
    """One ``[[rules]]`` entry: the common keys, and the trigger's own keys in `options`."""

    id: str
    trigger: str
    channel: tuple[str, ...]
    template: str | None = None
    kind: str = "appointment"
    enabled: bool = True
    locations: tuple[str, ...] | None = None
    recipient: str = "client"
    delay: Duration = Duration(0, "m")
    working_hours: bool = False
    options: Any = None                    # an instance of the trigger's rule_type

    def __getattr__(self, name: str) -> Any:
        # rule.before reads the trigger's own key, so plugins and templates see one rule object
        options = object.__getattribute__(self, "options")
        if options is not None and not name.startswith("_") and hasattr(options, name):
            return getattr(options, name)
        raise AttributeError(name)

    def applies_to(self, location: str | None) -> bool:
        return self.enabled and (self.locations is None or location in self.locations)


@frozen
class Config:
    """A validated configuration, with the registry of the plugins it enables."""

    tidings: Settings
    plugins: PluginsTable
    locations: Mapping[str, Location]
    rules: tuple[Rule, ...]
    channels: Mapping[str, Any]            # channel name -> its structured settings
    templates: Mapping[str, Any]           # raw [templates.NAME] tables, validated by tidings.templates
    links: Links
    registry: Registry = field(eq=False, repr=False)
    path: Path | None = None
    warnings: tuple[Problem, ...] = ()     # what `tidings check` tells without failing

    def location(self, location_id: str | None) -> Location:
        """The location of that id, or a default one with no hours; either is in ``[tidings].timezone`` unless it has its own."""
        found = self.locations.get(location_id or "")
        if found is None:
            return Location(id=location_id or "", timezone=self.tidings.timezone)
        # a location without a zone of its own is in [tidings].timezone, also for the country it is in (PRODUCT §6)
        return found if found.timezone is not None else attrs.evolve(found, timezone=self.tidings.timezone)

    def zone(self, location_id: str | None) -> ZoneInfo:
        return self.location(location_id).timezone or self.tidings.timezone

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


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

_COMMON = tuple(f.name for f in fields(Rule) if f.name != "options")


def channel_order(value: Any, enabled: Sequence[str], *, installed: Sequence[str] | None = None) -> tuple[str, ...]:
    """Turn a rule's `channel` (a name, prefer_sms / prefer_email, or a list) into an ordered tuple.

    Args:
        value: the rule's ``channel`` as written.
        enabled: the names listed in ``[plugins].channels``.
        installed: the channel plugins installed (None: take the enabled ones), named in the error
            when a rule names one that is installed but not enabled.

    Raises:
        ValueError: naming what the user wrote (``prefer_sms needs channels sms and email enabled ...``)
            and, for an unknown name, the choices that would work with the enabled channels.
    """
    known = tuple(enabled) if installed is None else tuple(installed)
    if isinstance(value, str) and value in POLICIES:
        missing = [name for name in POLICIES[value] if name not in enabled]
        if missing:
            why = "; ".join(f"{name} is {'not enabled' if name in known else 'not installed'}" for name in missing)
            raise ValueError(f"{value} needs channels {' and '.join(POLICIES[value])} enabled in [plugins].channels ({why})")
        return POLICIES[value]
    if isinstance(value, str):
        names: tuple[str, ...] = (value,)
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        names = tuple(value)
    else:
        raise ValueError(f"{value!r} is not a channel policy (a channel name, prefer_sms, prefer_email, or a list of channel names)")
    for name in names:
        if name in POLICIES:
            raise ValueError(f"{name} is a policy, not a channel: write channel = {name!r} alone, or list channels")
        if name not in enabled:
            raise ValueError(_not_enabled(name, enabled, known))
    if len(set(names)) != len(names):
        raise ValueError(f"{value!r} names a channel twice")
    return names


def _not_enabled(name: str, enabled: Sequence[str], installed: Sequence[str]) -> str:
    if name in installed:
        return (f"{name!r} is not an enabled channel: it is installed, add it to [plugins].channels "
                f"(enabled: {', '.join(enabled) or 'none'})")
    # only what would work as written: enabled channels, and the policies whose channels are all enabled
    choices = [n for n in enabled if n in installed] + [p for p, wanted in POLICIES.items() if all(n in enabled for n in wanted)]
    inert = [n for n in sorted(installed) if n not in enabled]
    close = difflib.get_close_matches(name, [*choices, *inert], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = f"choose one of: {', '.join(choices)}" if choices else "no channel is enabled in [plugins].channels"
    more = f"; installed but not enabled: {', '.join(inert)}" if inert else ""
    return f"{name!r} is not an enabled channel{hint} ({listed}{more})"


def load_config(path: str | os.PathLike[str], *, registry: Registry | None = None, verify: bool = False,
                require_env: bool = False) -> Config:
    """Read and validate a TOML configuration; raises ConfigError listing every problem (see `parse_config`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([Problem(str(path), f"cannot be read: {e.strerror}")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([Problem(str(path), f"is not valid TOML: {e}")]) from None
    return parse_config(raw, registry=registry, path=path, verify=verify, require_env=require_env)


def parse_config(raw: Mapping[str, Any], *, registry: Registry | None = None, path: Path | None = None,
                 verify: bool = False, require_env: bool = False) -> Config:
    """Validate a configuration already read into a dict; raises ConfigError listing every problem.

    Any TOML document gives a Config or a ConfigError, never another exception: a table written as
    a string, an array where a table belongs, a number where a name belongs are each a problem at
    their place (tests/core/test_config.py checks this on generated documents).

    Args:
        verify: also ask each enabled channel whether it could build its transport with its settings
            (`Channel.verify`, no I/O), as ``tidings check`` does. Off for simulate, preview and the
            pipeline: they never connect, so an incomplete provider table does not stop them.
        require_env: with `verify`, what a channel finds missing from this process's environment
            (a secret from an environment variable) is an error instead of a warning; for a check
            run where the worker runs.
    """
    problems: list[Problem] = []
    notes: list[Problem] = []     # warnings found here; the templates add theirs

    def structure(value: Any, cls: Any, where: str, default: Any = None) -> Any:
        try:
            return converter.structure(value, cls)
        except BaseValidationError as e:
            problems.extend(_at(where, p) for p in problems_from(e))
        except (ValueError, TypeError) as e:
            problems.append(Problem(where, str(e)))
        return default

    def table(key: str, shape: str) -> Mapping[str, Any]:
        value = raw.get(key, {})
        if isinstance(value, Mapping):
            return value
        problems.append(Problem(key, wrong_type(value, shape)))
        return {}

    allowed_top = ("tidings", "plugins", "channels", "locations", "rules", "templates", "links")
    for key in raw:
        if key not in allowed_top:
            problems.append(Problem(key, _unknown(key, allowed_top)))

    settings = structure(raw.get("tidings", {}), Settings, "tidings", Settings())
    plugins = structure(raw.get("plugins", {}), PluginsTable, "plugins", PluginsTable())
    links = structure(raw.get("links", {}), Links, "links", Links())
    if not links.secret and os.environ.get("TIDINGS_LINK_SECRET"):
        links = Links(base_url=links.base_url, secret=os.environ["TIDINGS_LINK_SECRET"], ttl=links.ttl)
    if links.secret:
        from tidings.links import check_secret
        weak = check_secret(links.secret)
        if weak is not None:
            where = "links.secret" if "secret" in (raw.get("links") or {}) else "links (TIDINGS_LINK_SECRET)"
            problems.append(Problem(where, weak))

    if registry is None:
        enabled = {"channels": plugins.channels, "triggers": plugins.triggers, "templates": plugins.templates}
        plugin_problems = [p for kind, names in enabled.items()
                           for p in check_enabled(kind, names, path=f"plugins.{kind}")]
        problems.extend(plugin_problems)
        usable = {kind: [n for i, n in enumerate(names) if not any(p.path == f"plugins.{kind}[{i}]" for p in plugin_problems)]
                  for kind, names in enabled.items()}
        try:
            registry = build_registry(usable)
        except PluginError as e:
            problems.append(Problem("plugins", str(e)))
            registry = build_registry({})
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
    if verify:
        for name, channel_settings in channels.items():
            found = _verify_channel(name, registry.channels[name], channel_settings)
            for problem in found:
                if problem.warning and not require_env:
                    notes.append(problem)
                else:
                    problems.append(Problem(problem.path, problem.message))
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
        rule = _rule(i, rule_table, registry, plugins, locations, problems, available=available)
        if rule is not None:
            rules.append(rule)

    templates = table("templates", "a table of [templates.<name>] tables")

    config = Config(tidings=settings, plugins=plugins, locations=locations, rules=tuple(rules),
                    channels=channels, templates=dict(templates), links=links, registry=registry, path=path)
    from tidings.templates import check_templates   # templates need the rest of the config to check against
    found = [*check_templates(config), *_check_channels(config)]
    problems.extend(p for p in found if not p.warning)
    if problems:
        raise ConfigError(problems)
    return attrs.evolve(config, warnings=(*notes, *(p for p in found if p.warning)))


def _verify_channel(name: str, channel: Any, settings: Any) -> list[Problem]:
    """What channel `name` reports it would need to connect, or nothing when it cannot tell."""
    if channel.verify is None or settings is None:   # None: its table already has problems of its own
        return []
    try:
        return list(channel.verify(settings))
    except Exception as e:   # a plugin's bug is a problem to show, not a traceback out of `check`
        return [Problem(f"channels.{name}", f"the {name} channel could not verify its settings: {e!r}")]


def _check_channels(config: Config) -> list[Problem]:
    """What each enabled channel's own `check` finds in its settings, at every location (or the default one)."""
    locations = [config.location(loc_id) for loc_id in config.locations] or [config.location(None)]
    found: list[Problem] = []
    for name in config.plugins.channels:
        channel = config.registry.channels.get(name)
        if channel is not None and channel.check is not None:
            found.extend(channel.check(config.channels.get(name), locations))
    return found


def _rule(i: int, table: Any, registry: Registry, plugins: PluginsTable,
          locations: Mapping[str, Location], problems: list[Problem], *, available: Sequence[str]) -> Rule | None:
    if not isinstance(table, Mapping):
        problems.append(Problem(f"rules[{i}]", wrong_type(table, "a table")))
        return None
    rule_id = table.get("id")
    place = f"rules[{i}] ({rule_id})" if isinstance(rule_id, str) else f"rules[{i}]"
    before = len(problems)
    if not isinstance(rule_id, str) or not rule_id:
        problems.append(Problem(f"{place}.id", "is required: a unique name for the rule"))
    trigger_name = table.get("trigger")
    trigger = registry.triggers.get(trigger_name) if isinstance(trigger_name, str) else None
    if trigger is None:
        choices = ", ".join(sorted(registry.triggers)) or "none enabled"
        if trigger_name is None:
            problems.append(Problem(f"{place}.trigger", f"is required (choose one of: {choices})"))
        elif trigger_name in plugins.triggers:
            pass   # the missing plugin is already reported under plugins.triggers
        else:
            problems.append(Problem(f"{place}.trigger", f"{trigger_name!r} is not an enabled trigger (choose one of: {choices})"))
    # a trigger key that is a Python keyword is an attribute with a trailing underscore (from -> from_)
    own = {f.name.rstrip("_"): f.name for f in fields(trigger.rule_type)} if trigger is not None else {}
    for key in table:
        if key not in _COMMON and key not in own and trigger is not None:
            problems.append(Problem(f"{place}.{key}", _unknown(key, [*_COMMON, *sorted(own)])))

    common: dict[str, Any] = {}
    for key in _COMMON:
        if key in table and key not in ("channel",):
            common[key] = table[key]
    try:
        channel = channel_order(table.get("channel"), plugins.channels, installed=available) if "channel" in table else None
        if channel is None:
            problems.append(Problem(f"{place}.channel", "is required (a channel name, prefer_sms, prefer_email, or a list)"))
    except ValueError as e:
        problems.append(Problem(f"{place}.channel", str(e)))
        channel = None
    checked: dict[str, Any] = {}
    for key, cls in (("kind", str), ("enabled", bool), ("recipient", str), ("delay", Duration),
                     ("working_hours", bool), ("template", str), ("locations", tuple[str, ...])):
        if key in common:
            try:
                checked[key] = converter.structure(common[key], cls)
            except BaseValidationError as e:
                problems.extend(_at(f"{place}.{key}", p) for p in problems_from(e))
            except (ValueError, TypeError) as e:
                problems.append(Problem(f"{place}.{key}", str(e)))
    if checked.get("kind", "appointment") not in KINDS:
        problems.append(Problem(f"{place}.kind", f"{checked['kind']!r} is not a kind (choose one of: {', '.join(KINDS)})"))
    if checked.get("recipient", "client") not in RECIPIENTS:
        problems.append(Problem(f"{place}.recipient", f"{checked['recipient']!r} is not a recipient (choose one of: {', '.join(RECIPIENTS)})"))
    for loc in checked.get("locations") or ():
        if loc not in locations:
            problems.append(Problem(f"{place}.locations", f"unknown location {loc!r} (defined: {', '.join(locations) or 'none'})"))
    options = None
    if trigger is not None:
        mine = {own[k]: v for k, v in table.items() if k in own}
        try:
            options = converter.structure(mine, trigger.rule_type)
        except BaseValidationError as e:
            problems.extend(_at(place, Problem(p.path.rstrip("_"), p.message)) for p in problems_from(e))
        except (ValueError, TypeError) as e:
            problems.append(Problem(place, str(e)))
    if options is not None and checked.get("kind", "appointment") == "appointment":
        problems.extend(_appointment_statuses(place, options))
    if len(problems) > before:
        return None
    return Rule(id=rule_id, trigger=trigger_name, channel=channel or (), options=options, **checked)


def _appointment_statuses(place: str, options: Any) -> list[Problem]:
    """Problems with the keys a trigger marks as statuses (`STATUSES` metadata), for an appointment rule.

    An appointment's statuses are fixed (PRODUCT §3), so ``to = ["confirmd"]`` would never match and
    the rule would never fire; orders and leads carry the host's own statuses and take any.
    """
    found = []
    for attribute in fields(type(options)):
        if not attribute.metadata.get(STATUSES):
            continue
        value = getattr(options, attribute.name)
        for status in (value,) if isinstance(value, str) else (value or ()):
            if status not in APPOINTMENT_STATUSES:
                close = difflib.get_close_matches(status, APPOINTMENT_STATUSES, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                found.append(Problem(f"{place}.{attribute.name.rstrip('_')}",
                                     f"{status!r} is not an appointment status{hint} (choose one of: "
                                     f"{', '.join(APPOINTMENT_STATUSES)}; orders and leads take any status)"))
    return found


def _unknown(key: str, allowed: Any) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def _at(prefix: str, problem: Problem) -> Problem:
    if not problem.path:
        return Problem(prefix, problem.message, problem.warning)
    joiner = "" if problem.path.startswith("[") else "."
    return Problem(f"{prefix}{joiner}{problem.path}", problem.message, problem.warning)
