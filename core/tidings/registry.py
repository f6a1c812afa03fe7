"""The `Registry`: everything the enabled plugins registered, by name; built once, never changed.

`tidings.plugins` builds it from entry points (or from plugin objects, in tests); everything else
only reads it, so this module depends on nothing but the registration types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from tidings.plugin_types import Channel, Command, TemplateFilter, TemplateGlobal, TemplateTexts, Trigger

__all__ = ["Registry"]


@frozen
class Registry:
    """Everything the enabled plugins registered, by name; built once, never changed."""

    channels: Mapping[str, Channel]
    triggers: Mapping[str, Trigger]
    filters: Mapping[str, TemplateFilter]
    globals: Mapping[str, TemplateGlobal]
    texts: tuple[TemplateTexts, ...]
    plugins: Mapping[str, Any]     # entry-point name -> loaded module, for `tidings plugins`
    # (plugin name, implementation) of `tidings_delivery_recorded`, called per entry by the core
    recorders: tuple[tuple[str, Callable[..., Any]], ...] = ()
    # subcommands of `tidings` the plugins add (`tidings_commands`), by name
    commands: Mapping[str, Command] = field(factory=lambda: MappingProxyType({}))
