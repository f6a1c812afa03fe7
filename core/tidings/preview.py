"""`tidings preview` and the SMS cost lines of `tidings check` (PRODUCT §10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tidings.errors import TemplateError, TidingsError
from tidings.templates import Templates, normalize_locale, sample_context

if TYPE_CHECKING:
    from tidings.config import Config, Rule
    from tidings.models import Event

__all__ = ["preview", "sms_costs"]


def _describe(config: Config, channel: str, parts: Mapping[str, str]) -> str:
    found = config.registry.channels.get(channel)
    if found is None or found.describe is None:
        return ""
    info = found.describe(parts)
    if "segments" in info:
        segments = info["segments"]
        return f"{info.get('encoding', '?')}, {segments} segment{'s' if segments != 1 else ''}, {info.get('length', len(parts.get('text', '')))} characters"
    return ", ".join(f"{k}: {v}" for k, v in info.items())


def preview(config: Config, rule_id: str, *, locale: str | None = None, event: Event | None = None) -> str:
    """Every channel's rendered message of a rule, for a sample subject or the given event."""
    try:
        rule = config.rule(rule_id)
    except KeyError:
        raise TidingsError(f"no rule {rule_id!r} in the configuration (rules: {', '.join(r.id for r in config.rules) or 'none'})") from None
    templates = Templates.from_config(config)
    context = sample_context(config, rule, event=event, locale=locale)
    wanted = locale or context["_locale"]
    lines: list[str] = []
    for channel in rule.channel:
        found = templates.resolve(rule, channel, wanted)
        header = f"== {rule.id} · {channel}"
        if found is None:
            lines += [header, f"   (no text for this channel in template {rule.template or rule.trigger!r})", ""]
            continue
        used, name, _ = found
        parts = templates.render(rule=rule, channel=channel, parts=config.registry.channels[channel].parts,
                                 context=context, locale=wanted)
        detail = _describe(config, channel, parts)
        lines.append(f"{header} · template {name!r} · locale {used or config.tidings.locale}" + (f" · {detail}" if detail else ""))
        for part, text in parts.items():
            lines.append(f"-- {part}")
            lines.extend(text.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _locales(config: Config, templates: Templates, rule: Rule) -> list[str]:
    """The locales a rule's SMS can go out in: those its template (or the built-in one) has, and the default."""
    trigger = config.registry.triggers.get(rule.trigger)
    names = [n for n in (rule.template, trigger.default_template if trigger else None) if n]
    found: list[str] = []
    for name in names:
        for source in (templates.deployer.get(name, {}), templates.builtin.get(name, {})):
            found += [loc for loc, texts in source.items() if loc and "sms" in texts]
    return list(dict.fromkeys([normalize_locale(config.tidings.locale), *sorted(found)]))


def sms_costs(config: Config) -> list[str]:
    """One line per SMS rule and locale: encoding and segment count of its sample message."""
    if "sms" not in config.registry.channels:
        return []
    templates = Templates.from_config(config)
    lines: list[str] = []
    for rule in config.rules:
        if "sms" not in rule.channel or rule.trigger not in config.registry.triggers:
            continue
        costs: list[str] = []
        seen: set[tuple[str, str | None]] = set()
        for locale in _locales(config, templates, rule):
            found = templates.resolve(rule, "sms", locale)
            if found is None or (found[1], found[0]) in seen:
                continue    # this locale gets a text already counted
            seen.add((found[1], found[0]))
            try:
                parts: Any = templates.render(rule=rule, channel="sms", parts=("text",),
                                              context=sample_context(config, rule, locale=locale), locale=locale)
            except TemplateError:
                continue    # reported as a problem by check
            costs.append(f"{found[0] or 'default'} {_describe(config, 'sms', parts)}")
        if costs:
            lines.append(f"sms {rule.id}: " + "; ".join(costs))
    return lines
