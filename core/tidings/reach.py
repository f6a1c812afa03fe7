"""Which address each rule's channels need, and the rules that can never reach their recipient (``tidings check``).

A channel says where its addresses come from (`Channel.reads`: SMS the ``phone``, Telegram
``addresses.telegram``, any one of them enough). ``tidings check`` prints one line per rule
saying what each of its channels needs of the recipient, and, where ``[contacts]`` says which
keys the host's client or staff records carry, warns about a rule none of whose channels can ever
reach its recipient: a staff rule sent by Telegram when staff records have no ``addresses.telegram``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.errors import Problem

if TYPE_CHECKING:
    from tidings.deployment import Deployment
    from tidings.plugin_types import Channel
    from tidings.rules import Rule

__all__ = ["needs", "reach_lines", "reach_problems"]


def needs(channel: Channel) -> str:
    """What a channel needs of a recipient, in words: ``phone``, ``addresses.whatsapp or phone``, or ``?``."""
    return " or ".join(channel.reads) if channel.reads else "?"


def _reachable(channel: Channel, carried: tuple[str, ...] | None) -> bool | None:
    """Whether a recipient whose records carry `carried` can have an address for `channel`; None: cannot tell."""
    if carried is None or not channel.reads:
        return None
    return any(key in carried for key in channel.reads)


def reach_lines(deployment: Deployment) -> list[str]:
    """One line per enabled rule: its recipient and what each of its channels needs (``tidings check`` prints them)."""
    channels = deployment.registry.channels
    lines = []
    for rule in deployment.config.rules:
        if not rule.enabled:
            continue
        parts = [f"{name} needs {needs(channels[name])}" for name in rule.channel if name in channels]
        if parts:
            lines.append(f"reach {rule.id} ({rule.recipient}): {'; '.join(parts)}")
    return lines


def reach_problems(deployment: Deployment) -> list[Problem]:
    """A warning for each enabled rule none of whose channels can reach its recipient, by ``[contacts]``."""
    config = deployment.config
    channels = deployment.registry.channels
    found = []
    for i, rule in enumerate(config.rules):
        carried = getattr(config.contacts, rule.recipient, None)
        if not rule.enabled or carried is None:
            continue
        ours = [channels[name] for name in rule.channel if name in channels]
        verdicts = [_reachable(channel, carried) for channel in ours]
        if ours and all(verdict is False for verdict in verdicts):
            found.append(Problem(f"rules[{i}] ({rule.id}).channel", _never(rule, ours, carried), warning=True))
    return found


def _never(rule: Rule, channels: list[Channel], carried: tuple[str, ...]) -> str:
    what = "; ".join(f"{channel.name} needs {needs(channel)}" for channel in channels)
    return (f"no channel of this rule can ever reach its recipient ({rule.recipient}): {what}, and [contacts] "
            f"{rule.recipient} lists only {', '.join(carried) or 'nothing'}; add a channel that reads one of those, "
            f"or list the key if the host's {rule.recipient} records do carry it")
