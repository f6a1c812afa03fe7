"""What plugins add to every template: filters, globals and built-in texts (per part role)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

if TYPE_CHECKING:
    from tidings.plugin_types.channels import Channel

__all__ = ["TemplateFilter", "TemplateGlobal", "TemplateTexts"]


@frozen
class TemplateFilter:
    """Returned from `tidings_template_filters`: a Jinja filter for every template."""

    name: str
    function: Callable[..., Any]
    needs_context: bool = False     # called as function(context, value, ...) with the render context


@frozen
class TemplateGlobal:
    """Returned from `tidings_template_globals`: a function or value every template may use."""

    name: str
    value: Any
    needs_context: bool = False


@frozen
class TemplateTexts:
    """Returned from `tidings_template_texts`: a built-in template in one locale, per part role.

    Any channel gets the text of each of its parts' roles (`ROLES`); `channels` may give one
    channel texts of its own, by part name, which it gets instead.
    """

    name: str                                 # "pre-visit"
    locale: str                               # "pl"
    texts: Mapping[str, str] = field(factory=dict)    # role -> Jinja source: {"title": ..., "short": ..., ...}
    channels: Mapping[str, Mapping[str, str]] = field(factory=dict)  # channel -> part -> source, for that channel only

    def for_channel(self, channel: Channel) -> dict[str, str]:
        """The sources of `channel`'s parts, by part name: its own texts if any, else one per role it has."""
        if channel.name in self.channels:
            return dict(self.channels[channel.name])
        roles = {part: channel.role(part) for part in channel.parts}
        return {part: self.texts[role] for part, role in roles.items() if role is not None and role in self.texts}
