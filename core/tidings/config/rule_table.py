"""One ``[[rules]]`` table structured into a `Rule`: the common keys, the trigger's own, the channel policy."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import fields
from cattrs.errors import BaseValidationError

from tidings.config.policies import channel_order, policy_names
from tidings.converter import converter, problems_from, wrong_type
from tidings.durations import Duration
from tidings.errors import Problem
from tidings.models import APPOINTMENT_STATUSES
from tidings.plugin_types import STATUSES
from tidings.registry import Registry
from tidings.rules import DELIVERIES, KINDS, RECIPIENTS, Location, PluginsTable, Rule

__all__ = ["COMMON", "structure_rule", "unknown_key", "at"]

COMMON = tuple(f.name for f in fields(Rule) if f.name != "options")
# the common keys besides id, trigger and channel, and the type each is structured as
_TYPED: tuple[tuple[str, Any], ...] = (
    ("kind", str), ("enabled", bool), ("recipient", str), ("delay", Duration), ("working_hours", bool),
    ("template", str), ("locations", tuple[str, ...]), ("delivery", str))


def structure_rule(i: int, table: Any, registry: Registry, plugins: PluginsTable, locations: Mapping[str, Location],
                   problems: list[Problem], *, available: Sequence[str]) -> Rule | None:
    """The rule of ``rules[i]``, or None with its problems added to `problems` (each at its place)."""
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
        if key not in COMMON and key not in own and trigger is not None:
            problems.append(Problem(f"{place}.{key}", unknown_key(key, [*COMMON, *sorted(own)])))

    channel: tuple[str, ...] | None = None
    try:
        channel = channel_order(table.get("channel"), plugins.channels, installed=available) if "channel" in table else None
        if channel is None:
            problems.append(Problem(f"{place}.channel", f"is required (a channel name, {policy_names()}, or a list)"))
    except ValueError as e:
        problems.append(Problem(f"{place}.channel", str(e)))
    checked: dict[str, Any] = {}
    for key, cls in _TYPED:
        if key in table:
            try:
                checked[key] = converter.structure(table[key], cls)
            except BaseValidationError as e:
                problems.extend(at(f"{place}.{key}", p) for p in problems_from(e))
            except (ValueError, TypeError) as e:
                problems.append(Problem(f"{place}.{key}", str(e)))
    if checked.get("kind", "appointment") not in KINDS:
        problems.append(Problem(f"{place}.kind", f"{checked['kind']!r} is not a kind (choose one of: {', '.join(KINDS)})"))
    if checked.get("recipient", "client") not in RECIPIENTS:
        problems.append(Problem(f"{place}.recipient", f"{checked['recipient']!r} is not a recipient (choose one of: {', '.join(RECIPIENTS)})"))
    if checked.get("delivery", DELIVERIES[0]) not in DELIVERIES:
        problems.append(Problem(f"{place}.delivery", f"{checked['delivery']!r} is not a delivery guarantee "
                                                     f"(choose one of: {', '.join(DELIVERIES)})"))
    for loc in checked.get("locations") or ():
        if loc not in locations:
            problems.append(Problem(f"{place}.locations", f"unknown location {loc!r} (defined: {', '.join(locations) or 'none'})"))
    options: Any = None
    if trigger is not None:
        mine = {own[k]: v for k, v in table.items() if k in own}
        try:
            options = converter.structure(mine, trigger.rule_type)
        except BaseValidationError as e:
            problems.extend(at(place, Problem(p.path.rstrip("_"), p.message)) for p in problems_from(e))
        except (ValueError, TypeError) as e:
            problems.append(Problem(place, str(e)))
    if options is not None and checked.get("kind", "appointment") == "appointment":
        problems.extend(_appointment_statuses(place, options))
    if len(problems) > before or not isinstance(rule_id, str) or not isinstance(trigger_name, str):
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


def unknown_key(key: str, allowed: Any) -> str:
    """The message of a key that is not one of `allowed`, with the closest as a suggestion."""
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def at(prefix: str, problem: Problem) -> Problem:
    """`problem` placed under `prefix` (``channels.sms`` + ``url`` → ``channels.sms.url``)."""
    if not problem.path:
        return Problem(prefix, problem.message, problem.warning)
    joiner = "" if problem.path.startswith("[") else "."
    return Problem(f"{prefix}{joiner}{problem.path}", problem.message, problem.warning)
