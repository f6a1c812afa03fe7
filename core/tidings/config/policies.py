"""A rule's ``channel`` (PRODUCT §6): a channel name, a list of them in order, or a named policy.

The policies are data, one row each in `POLICIES`: a name a deployer writes and the channels it
tries, in order. The spec names two; any row added here is offered by the error messages too.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["POLICIES", "channel_order", "policy_names"]

POLICIES: Mapping[str, tuple[str, ...]] = {
    "prefer_sms": ("sms", "email"),
    "prefer_email": ("email", "sms"),
}


def channel_order(value: Any, enabled: Sequence[str], *, installed: Sequence[str] | None = None) -> tuple[str, ...]:
    """Turn a rule's `channel` (a name, a policy of `POLICIES`, or a list) into an ordered tuple.

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
        raise ValueError(f"{value!r} is not a channel policy (a channel name, {policy_names()}, or a list of channel names)")
    for name in names:
        if name in POLICIES:
            raise ValueError(f"{name} is a policy, not a channel: write channel = {name!r} alone, or list channels")
        if name not in enabled:
            raise ValueError(_not_enabled(name, enabled, known))
    if len(set(names)) != len(names):
        raise ValueError(f"{value!r} names a channel twice")
    return names


def policy_names() -> str:
    """``prefer_sms, prefer_email``: the policy names as a message lists them."""
    return ", ".join(POLICIES)


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
