"""`tidings preview` (PRODUCT §10): a rule's message rendered for each of its channels, with what it costs.

Each channel's part is shown as written and, where the channel's `prepare` changes it (the SMS
channel's transliteration), as sent; the channel's `describe` says what the message is
(``UCS-2, 2 segments, 57 characters``) and, for a channel whose messages cost by their text, what
it costs in each month of a year (`tidings.costs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tidings.costs import costs, describe, settings_at
from tidings.deployment import Deployment, as_deployment
from tidings.errors import TidingsError
from tidings.plugin_types import RenderedMessage
from tidings.templates import sample_context

if TYPE_CHECKING:
    from tidings.models import Event
    from tidings.rules import Config

__all__ = ["preview", "preview_parts"]


def _described(deployment: Deployment, channel: str, parts: Mapping[str, str]) -> str:
    """``UCS-2, 1 segment, 57 characters · transliterated GSM-7, 1 segment``: a channel's description in words."""
    description = describe(deployment, channel, parts)
    if description is None:
        return ""
    text = description.written() + (f", {description.detail}" if description.detail else "")
    for name, alternative in description.alternatives.items():
        text += f" · {name} {alternative.written()}"
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
        description = describe(deployment, channel, parts)
        channels.append({"channel": channel, "template": name, "locale": used or config.tidings.locale,
                         "parts": dict(parts), "as_sent": dict(sent),
                         "info": dict(description) if description is not None else {},
                         "by_month": costs(deployment, rule, channel, wanted, event)})
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
        detail = _described(deployment, channel, parts)
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
    return found.prepare(message, settings_at(deployment, channel, location)).parts

