"""`Command`, returned from `tidings_commands`: a subcommand a plugin adds to ``tidings``.

A plugin's command belongs to a deployment: ``tidings manual list --config tidings.toml`` runs the
``manual`` command of the plugins that configuration enables, so an installed plugin that is not
enabled adds no command (and is never imported). The core reads ``--config`` wherever it stands,
loads and checks the configuration, and hands the command a `tidings.commands.CommandContext` as
click's ``ctx.obj`` (``@click.pass_obj``).
"""

from __future__ import annotations

import re
from typing import Any

from attrs import field, frozen

from tidings.errors import PluginError

__all__ = ["Command"]

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def _name(command: Command, attribute: Any, value: str) -> None:
    if not _NAME.fullmatch(value):
        raise PluginError(f"command {value!r}: a command is named in lower-case kebab-case, like 'manual' or 'crm-sync'")


@frozen
class Command:
    """Returned from `tidings_commands`: ``tidings <name> ...``, run against a deployment's ``--config``."""

    name: str = field(validator=_name)   # what follows ``tidings``; a core command's name stays the core's
    summary: str                         # one line, shown by ``tidings --help`` of that configuration
    command: Any                         # a ``click.Command`` (or group): its options, arguments and what it does
