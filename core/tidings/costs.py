"""What a rule's messages cost through each channel, over a year: the cost lines of `tidings check` (PRODUCT §10).

What a message costs can depend on the date it names: a month's name may hold a letter that the
rest of the text does not (Polish ``paź``, October, turns a GSM-7 SMS into UCS-2). So a channel
whose `describe` gives a message a `cost` (`tidings.plugin_types.Description`; the SMS channel's
segments) has it counted for a sample visit in each month of the year, shown per rule and locale
as the worst month and the months that differ. A description may give, beside the facts of the
text as written, the same facts for other ways of sending it (the SMS channel's
``transliterated``); each is summarised too, and the one the channel's `prepare` actually sends is
marked ``(sent)``. The core knows no channel: every line comes from a channel's own description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tidings.deployment import Deployment, as_deployment
from tidings.errors import TemplateError
from tidings.models import evolve
from tidings.plugin_types import Description, RenderedMessage
from tidings.templates import normalize_locale, sample_context, sample_event

if TYPE_CHECKING:
    from tidings.models import Event
    from tidings.rules import Config, Rule

__all__ = ["MONTHS", "by_month", "cost_lines", "costs", "describe", "in_month", "settings_at"]

# English, like the rest of `check`'s output (calendar.month_abbr would follow the process's C locale)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def describe(deployment: Deployment, channel: str, parts: Mapping[str, str]) -> Description | None:
    """What a channel's `describe` says of rendered parts, as a `Description`; None for a channel without one."""
    found = deployment.registry.channels.get(channel)
    if found is None or found.describe is None:
        return None
    return Description.of(found.describe(parts))


def settings_at(deployment: Deployment, channel: str, location: str | None) -> Any:
    """A channel's settings as they apply at a location, as the pipeline hands them to `prepare`."""
    config = deployment.config
    found = deployment.registry.channels[channel]
    settings = config.channels.get(channel)
    return found.locate(settings, config.location(location)) if found.locate is not None else settings


def _months(numbers: Sequence[int]) -> str:
    """``Jan–Mar, Oct`` for [1, 2, 3, 10]."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(MONTHS[r[0] - 1] if len(r) == 1 else f"{MONTHS[r[0] - 1]}–{MONTHS[r[-1] - 1]}" for r in runs)


def by_month(descriptions: Mapping[int, Description]) -> str:
    """The description of each month as one phrase: the costliest month first, then the months that differ."""
    groups: dict[str, list[int]] = {}
    cost: dict[str, int] = {}
    for month, description in descriptions.items():
        phrase = description.written()
        groups.setdefault(phrase, []).append(month)
        cost[phrase] = description.cost or 0
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


def costs(deployment: Deployment, rule: Rule, channel: str, locale: str | None, event: Event | None = None) -> str | None:
    """A rule's cost through `channel` in `locale` over a sample visit in each month, or None if it has none."""
    config, templates = deployment.config, deployment.templates
    found = deployment.registry.channels.get(channel)
    if found is None or found.describe is None:
        return None
    base = event or sample_event(deployment, rule)
    settings = settings_at(deployment, channel, base.subject.location)
    written: dict[int, Description] = {}
    sent: dict[int, Description] = {}
    for month in range(1, 13) if base.subject.start is not None else (base.occurred_at.month,):
        sample = in_month(config, base, month)
        try:
            parts = templates.render(rule=rule, channel=channel, parts=found.parts,
                                     context=sample_context(deployment, rule, event=sample, locale=locale), locale=locale)
        except TemplateError:
            return None    # reported as a problem by check
        written[month] = Description.of(found.describe(parts))
        if written[month].cost is None:
            return None    # nothing that varies by month (an e-mail's format)
        if found.prepare is not None:
            message = RenderedMessage(channel=channel, to="", parts=parts, rule=rule.id, subject=sample.subject.id,
                                      locale=locale or config.tidings.locale)
            sent[month] = Description.of(found.describe(found.prepare(message, settings).parts))
    facts = {m: dict(d.facts) for m, d in written.items()}
    sent_facts = {m: dict(d.facts) for m, d in sent.items()}
    text = by_month(written)
    marked = sent_facts == facts
    for name in dict.fromkeys(name for d in written.values() for name in d.alternatives):
        alternative = {m: d.alternatives.get(name, d) for m, d in written.items()}
        is_sent = not marked and sent_facts == {m: dict(a.facts) for m, a in alternative.items()}
        marked = marked or is_sent
        text += f" · {name} {by_month(alternative)}" + (" (sent)" if is_sent else "")
    if not marked and sent_facts:
        text += f" · sent {by_month(sent)}"
    return text


def cost_lines(source: Deployment | Config) -> list[str]:
    """One line per rule and channel whose messages cost by their text: per locale, the cost over a year.

    ``sms reminder-24h: default GSM-7, 1 segment; uk UCS-2, 3 segments``: each locale the rule's
    template (or its built-in one) is written in, and the configured one, counted once per text.
    """
    deployment = as_deployment(source)
    config, templates = deployment.config, deployment.templates
    lines: list[str] = []
    for rule in config.rules:
        if rule.trigger not in deployment.registry.triggers:
            continue
        for channel in rule.channel:
            found: list[str] = []
            seen: set[tuple[str, str | None]] = set()
            locales = dict.fromkeys([normalize_locale(config.tidings.locale), *templates.locales(rule, channel)])
            for locale in locales:
                text = templates.resolve(rule, channel, locale)
                if text is None or (text[1], text[0]) in seen:
                    continue    # this locale gets a text already counted
                seen.add((text[1], text[0]))
                cost = costs(deployment, rule, channel, locale)
                if cost is not None:
                    found.append(f"{text[0] or 'default'} {cost}")
            if found:
                lines.append(f"{channel} {rule.id}: " + "; ".join(found))
    return lines
