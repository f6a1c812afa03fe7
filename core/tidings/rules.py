"""The configuration as data (PRODUCT §4): one frozen class per table, and `Config`, the whole document.

These are plain models: `tidings.config` structures them from TOML and `tidings.check` checks them
further; nothing here reads a file, loads a plugin or renders a template. Plugins see `Rule` (a
trigger's ``plan``) and `Location` (a channel's ``locate`` and ``check``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from attrs import field, frozen

from tidings.converter import check_fields
from tidings.durations import Duration, not_zero
from tidings.hours import WeekHours
from tidings.models import ADDRESS_KEYS, is_address_key
from tidings.zones import zone_countries

__all__ = ["DELIVERIES", "KINDS", "RECIPIENTS", "Config", "Contacts", "Links", "Location", "PluginsTable", "Rule", "Settings"]

KINDS = ("appointment", "order", "lead")
RECIPIENTS = ("client", "staff")
# what becomes of a message whose attempt's outcome is unknown (a worker died mid-request, an answer lost
# to a timeout) on a channel that cannot look it up: sent again (a possible duplicate), or recorded failed
DELIVERIES = ("at-least-once", "at-most-once")

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
    # how long delivery-log entries, quiet subjects' snapshots, seen event ids and sent keys are kept
    retention: Duration = field(default=Duration(90, "d"), validator=not_zero("a retention of zero would forget "
                                                                             "every sent message at once"))
    strict_events: bool = False           # reject events with keys the contract does not define (else: warn once per path)


@frozen
class PluginsTable:
    """The ``[plugins]`` table: an allowlist of entry-point names per kind."""

    channels: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()

    def enabled(self) -> dict[str, tuple[str, ...]]:
        """The entry-point names per kind, as `tidings.plugins.build_registry` takes them."""
        return {"channels": self.channels, "triggers": self.triggers, "templates": self.templates}


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
    delivery: str = "at-least-once"        # one of DELIVERIES
    options: Any = None                    # an instance of the trigger's rule_type

    def __getattr__(self, name: str) -> Any:
        # rule.before reads the trigger's own key, so plugins and templates see one rule object
        options = object.__getattribute__(self, "options")
        if options is not None and not name.startswith("_") and hasattr(options, name):
            return getattr(options, name)
        raise AttributeError(name)

    def applies_to(self, location: str | None) -> bool:
        return self.enabled and (self.locations is None or location in self.locations)


def _address_keys(value: tuple[str, ...] | None) -> str | None:
    for key in value or ():
        if not is_address_key(key):
            return (f"{key!r} is not an address key of a contact: use {', '.join(ADDRESS_KEYS)} or "
                    "addresses.<channel> (like addresses.telegram)")
    return None


@frozen
class Contacts:
    """The ``[contacts]`` table: where the host's records of clients and of staff carry addresses (for `tidings check`).

    None (the key left out) says nothing: every key may be there. A list says these keys only, so
    `tidings check` warns about a rule none of whose channels could reach such a recipient.
    """

    client: tuple[str, ...] | None = None
    staff: tuple[str, ...] | None = None

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"client": _address_keys, "staff": _address_keys}, "contacts")


@frozen
class Config:
    """A structured configuration: what the deployer wrote, with every value of its type.

    It holds no plugin: the registry of the plugins it enables, and the templates built with them,
    are the other two parts of a `tidings.deployment.Deployment`.
    """

    tidings: Settings
    plugins: PluginsTable
    locations: Mapping[str, Location]
    rules: tuple[Rule, ...]
    channels: Mapping[str, Any]            # channel name -> its structured settings
    templates: Mapping[str, Any]           # raw [templates.NAME] tables, read by tidings.templates
    links: Links
    path: Path | None = None
    contacts: Contacts = Contacts()
    _by_id: Mapping[str, Rule] = field(init=False, eq=False, repr=False)

    @_by_id.default
    def _index(self) -> Mapping[str, Rule]:
        by_id: dict[str, Rule] = {}
        for rule in self.rules:
            by_id.setdefault(rule.id, rule)   # the first of two rules with one id, as `tidings check` names it
        return by_id

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
        """The rule of that id; KeyError if there is none."""
        return self._by_id[rule_id]
