"""`tidings preview` and the SMS cost lines of `tidings check` (PRODUCT §10).

What a message costs can depend on the date it names: a month's name may hold a letter that the
rest of the text does not (Polish ``paź``, October, turns a GSM-7 SMS into UCS-2). So costs are
counted for a sample visit in each month of the year, and shown per rule and locale as the
worst month and the months that differ. A channel's `describe` may report, beside the facts of
the text as written, the same facts for other ways of sending it (the SMS channel's
``transliterated``); each is summarised too, and the one the channel's `prepare` actually sends
is marked ``(sent)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidings.deployment import Deployment, as_deployment
from tidings.errors import TemplateError, TidingsError
from tidings.models import evolve
from tidings.plugin_types import RenderedMessage
from tidings.templates import normalize_locale, sample_context, sample_event

if TYPE_CHECKING:
    from tidings.models import Event
    from tidings.rules import Config, Rule

__all__ = ["in_month", "preview", "preview_parts", "sms_costs"]

# English, like the rest of `check`'s output (calendar.month_abbr would follow the process's C locale)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
Info = Mapping[str, Any]


def _phrase(info: Info) -> str:
    """One description as words: ``UCS-2, 2 segments`` for a segment count, else ``key: value, ...``."""
    if "segments" in info:
        segments = info["segments"]
        return f"{info.get('encoding', '?')}, {segments} segment{'s' if segments != 1 else ''}"
    return ", ".join(f"{k}: {v}" for k, v in info.items() if not isinstance(v, Mapping))


def _own(info: Info) -> Info:
    """The facts of the text as written, without the alternatives (the nested mappings)."""
    return {k: v for k, v in info.items() if not isinstance(v, Mapping)}


def _alternatives(infos: Sequence[Info]) -> list[str]:
    """The names of the other ways of sending that `describe` reported (``transliterated``), in order."""
    return list(dict.fromkeys(k for info in infos for k, v in info.items() if isinstance(v, Mapping)))


def _describe(deployment: Deployment, channel: str, parts: Mapping[str, str]) -> str:
    found = deployment.registry.channels.get(channel)
    if found is None or found.describe is None:
        return ""
    info = found.describe(parts)
    text = _phrase(_own(info))
    if "segments" in info:
        text += f", {info.get('length', len(parts.get('text', '')))} characters"
    for name in _alternatives([info]):
        text += f" · {name} {_phrase(info[name])}"
    return text


def _months(numbers: Sequence[int]) -> str:
    """``Jan–Mar, Oct`` for [1, 2, 3, 10]."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(MONTHS[r[0] - 1] if len(r) == 1 else f"{MONTHS[r[0] - 1]}–{MONTHS[r[-1] - 1]}" for r in runs)


def _by_month(infos: Mapping[int, Info]) -> str:
    """The facts of each month as one phrase: the worst month first, then the months that differ."""
    groups: dict[str, list[int]] = {}
    cost: dict[str, Any] = {}
    for month, info in infos.items():
        phrase = _phrase(info)
        groups.setdefault(phrase, []).append(month)
        cost[phrase] = info.get("segments", 0)
    if len(groups) == 1:
        return next(iter(groups))
    # the costliest first; among equal costs, the exception (fewer months) before the rule
    worst, *rest = sorted(groups, key=lambda p: (-cost[p], len(groups[p])))
    usual = max(rest, key=lambda p: len(groups[p]))
    others = [f"{p} in {_months(groups[p])}" for p in rest if p != usual]
    return f"{worst} in {_months(groups[worst])} ({' · '.join([*others, f'{usual} in the other months'])})"


def in_month(config: Config, event: Event, month: int) -> Event:
    """The event with its visit moved to the same day and local time in `month` (the 28th at most)."""
    subject = event.subject
    if subject.start is None:
        return event
    zone = config.zone(subject.location)
    local = subject.start.astimezone(zone)
    moved = local.replace(month=month, day=min(local.day, 28))
    delta = moved - local     # wall-clock difference: same zone, so the local time of day is kept

    def shift(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(zone) + delta

    previous = event.previous
    if previous is not None and previous.start is not None:
        previous = evolve(previous, start=shift(previous.start))
    moved_event: Event = evolve(event, occurred_at=shift(event.occurred_at), previous=previous,
                                subject=evolve(subject, start=moved, end=shift(subject.end)))
    return moved_event


def _costs(deployment: Deployment, rule: Rule, channel: str, locale: str | None,
           event: Event | None = None) -> str | None:
    """A rule's cost through `channel` in `locale` over a sample visit in each month, or None if it has none."""
    config, templates = deployment.config, deployment.templates
    found = deployment.registry.channels.get(channel)
    if found is None or found.describe is None:
        return None
    base = event or sample_event(deployment, rule)
    settings = _settings_at(deployment, channel, base.subject.location)
    written: dict[int, Info] = {}
    sent: dict[int, Info] = {}
    for month in range(1, 13) if base.subject.start is not None else (base.occurred_at.month,):
        sample = in_month(config, base, month)
        try:
            parts = templates.render(rule=rule, channel=channel, parts=found.parts,
                                     context=sample_context(deployment, rule, event=sample, locale=locale), locale=locale)
        except TemplateError:
            return None    # reported as a problem by check
        written[month] = found.describe(parts)
        if "segments" not in written[month]:
            return None    # nothing that varies by month (an e-mail's format)
        if found.prepare is not None:
            message = RenderedMessage(channel=channel, to="", parts=parts, rule=rule.id, subject=sample.subject.id,
                                      locale=locale or config.tidings.locale)
            sent[month] = found.describe(found.prepare(message, settings).parts)
    own = {m: _own(info) for m, info in written.items()}
    sent_own = {m: _own(info) for m, info in sent.items()}
    text = _by_month(own)
    marked = sent_own == own
    for name in _alternatives(list(written.values())):
        alternative = {m: info.get(name, own[m]) for m, info in written.items()}
        is_sent = not marked and sent_own == {m: _own(a) for m, a in alternative.items()}
        marked = marked or is_sent
        text += f" · {name} {_by_month(alternative)}" + (" (sent)" if is_sent else "")
    if not marked and sent_own:
        text += f" · sent {_by_month(sent_own)}"
    return text


def preview_parts(source: Deployment | Config, rule_id: str, *, locale: str | None = None,
                  event: Event | None = None) -> dict[str, Any]:
    """A rule's rendered message per channel, as data (what `preview` prints, and `preview --json`).

    Returns:
        ``{"rule", "locale", "channels": [...]}``, one entry per channel of the rule in its order:
        ``channel``, ``template``, ``locale``, ``parts`` (as written), ``as_sent`` (as the channel's
        `prepare` sends them), ``info`` (what the channel's `describe` says of them) and ``by_month``
        (the cost over the months of a year, or None). A channel with no text in the template has
        ``"template": None`` and ``"parts": None``, and names the template in ``missing_from``.
    """
    deployment = as_deployment(source)
    config, templates = deployment.config, deployment.templates
    try:
        rule = config.rule(rule_id)
    except KeyError:
        raise TidingsError(f"no rule {rule_id!r} in the configuration (rules: {', '.join(r.id for r in config.rules) or 'none'})") from None
    context = sample_context(deployment, rule, event=event, locale=locale)
    wanted = locale or context["_locale"]
    channels: list[dict[str, Any]] = []
    for channel in rule.channel:
        found = templates.resolve(rule, channel, wanted)
        if found is None:
            channels.append({"channel": channel, "template": None, "missing_from": rule.template or rule.trigger,
                             "locale": None, "parts": None, "as_sent": None, "info": {}, "by_month": None})
            continue
        used, name, _ = found
        registered = deployment.registry.channels[channel]
        parts = templates.render(rule=rule, channel=channel, parts=registered.parts, context=context, locale=wanted)
        sent = _as_sent(deployment, channel, parts, locale=wanted, location=context["subject"]["location"])
        channels.append({"channel": channel, "template": name, "locale": used or config.tidings.locale,
                         "parts": dict(parts), "as_sent": dict(sent),
                         "info": dict(registered.describe(parts)) if registered.describe else {},
                         "by_month": _costs(deployment, rule, channel, wanted, event)})
    return {"rule": rule.id, "locale": wanted, "channels": channels}


def preview(source: Deployment | Config, rule_id: str, *, locale: str | None = None, event: Event | None = None) -> str:
    """Every channel's rendered message of a rule, for a sample subject or the given event."""
    deployment = as_deployment(source)
    lines: list[str] = []
    for found in preview_parts(deployment, rule_id, locale=locale, event=event)["channels"]:
        channel, parts = found["channel"], found["parts"]
        header = f"== {rule_id} · {channel}"
        if parts is None:
            lines += [header, f"   (no text for this channel in template {found['missing_from']!r})", ""]
            continue
        detail = _describe(deployment, channel, parts)
        lines.append(f"{header} · template {found['template']!r} · locale {found['locale']}" + (f" · {detail}" if detail else ""))
        if found["by_month"] is not None:
            lines.append(f"   by month: {found['by_month']}")
        for part, text in parts.items():
            lines.append(f"-- {part}")
            lines.extend(text.splitlines() or [""])
        for part, text in found["as_sent"].items():
            if text != parts.get(part):
                lines.append(f"-- {part}, as sent")
                lines.extend(text.splitlines() or [""])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _as_sent(deployment: Deployment, channel: str, parts: Mapping[str, str], *, locale: str,
             location: str | None) -> Mapping[str, str]:
    """The parts as the channel's `prepare` sends them (the SMS channel's transliteration), at `location`."""
    found = deployment.registry.channels[channel]
    if found.prepare is None:
        return parts
    message = RenderedMessage(channel=channel, to="", parts=parts, locale=locale)
    return found.prepare(message, _settings_at(deployment, channel, location)).parts


def _settings_at(deployment: Deployment, channel: str, location: str | None) -> Any:
    """A channel's settings as they apply at a location, as the pipeline hands them to `prepare`."""
    config = deployment.config
    found = deployment.registry.channels[channel]
    settings = config.channels.get(channel)
    return found.locate(settings, config.location(location)) if found.locate is not None else settings


def _locales(deployment: Deployment, rule: Rule) -> list[str]:
    """The locales a rule's SMS can go out in: those its template (or the built-in one) has, and the default."""
    config, templates = deployment.config, deployment.templates
    trigger = deployment.registry.triggers.get(rule.trigger)
    names = [n for n in (rule.template, trigger.default_template if trigger else None) if n]
    found: list[str] = []
    for name in names:
        for source in (templates.deployer.get(name, {}), templates.builtin.get(name, {})):
            found += [loc for loc, texts in source.items() if loc and "sms" in texts]
    return list(dict.fromkeys([normalize_locale(config.tidings.locale), *sorted(found)]))


def sms_costs(source: Deployment | Config) -> list[str]:
    """One line per SMS rule: per locale, encoding and segments over a sample visit in each month."""
    deployment = as_deployment(source)
    config, templates = deployment.config, deployment.templates
    if "sms" not in deployment.registry.channels:
        return []
    lines: list[str] = []
    for rule in config.rules:
        if "sms" not in rule.channel or rule.trigger not in deployment.registry.triggers:
            continue
        costs: list[str] = []
        seen: set[tuple[str, str | None]] = set()
        for locale in _locales(deployment, rule):
            found = templates.resolve(rule, "sms", locale)
            if found is None or (found[1], found[0]) in seen:
                continue    # this locale gets a text already counted
            seen.add((found[1], found[0]))
            cost = _costs(deployment, rule, "sms", locale)
            if cost is not None:
                costs.append(f"{found[0] or 'default'} {cost}")
        if costs:
            lines.append(f"sms {rule.id}: " + "; ".join(costs))
    return lines
