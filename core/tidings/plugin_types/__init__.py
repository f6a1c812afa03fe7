"""The objects plugins register with tidings, one frozen class per hook (conda's ``types.py`` shape).

Each is returned from a ``tidings_*`` registration hook, called once while the core builds its
`Registry`; from then on the core works through these objects only. By concern:

- `channels`: `Channel` (``tidings_channels``), its part `ROLES`, `Description`, `NoConfig`;
- `delivery`: what a transport is handed and hands back: `RenderedMessage`, `Receipt`,
  `NoAddress`, the `Transport` protocol;
- `triggers`: `Trigger` (``tidings_triggers``), the intents it returns and the `History` it reads;
- `templates`: `TemplateFilter`, `TemplateGlobal`, `TemplateTexts` (the template hooks);
- `commands`: `Command` (``tidings_commands``), a subcommand of ``tidings``.
"""

from __future__ import annotations

from collections.abc import Iterable

from tidings.plugin_types.channels import OUTCOMES, ROLES, TEXT_ROLES, Channel, Description, NoConfig
from tidings.plugin_types.commands import Command
from tidings.plugin_types.delivery import NoAddress, Receipt, RenderedMessage, Transport
from tidings.plugin_types.templates import TemplateFilter, TemplateGlobal, TemplateTexts
from tidings.plugin_types.triggers import (
    STATUSES,
    Drop,
    History,
    Intent,
    Pending,
    Restore,
    Send,
    Skip,
    Suspend,
    Trigger,
)

RegistrationType = Channel | Trigger | TemplateFilter | TemplateGlobal | TemplateTexts | Command
__all__ = ["OUTCOMES", "ROLES", "STATUSES", "TEXT_ROLES", "Channel", "Command", "Description", "Drop", "History", "Intent", "NoAddress",
           "NoConfig", "Pending", "Receipt", "RegistrationType", "RenderedMessage", "Restore", "Send", "Skip", "Suspend",
           "TemplateFilter", "TemplateGlobal", "TemplateTexts", "Transport", "Trigger", "Iterable"]
