"""Plugins' subcommands of ``tidings``: found through the configuration of ``--config``, run with its deployment.

``tidings manual list --config tidings.toml`` is not a core command: the command line names the
configuration, the configuration enables the plugins, and the plugins register their commands
(`tidings.hookspecs.tidings_commands`). So an installed plugin that a configuration does not
enable adds no command and is never imported. ``--config`` may stand anywhere after the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import frozen

if TYPE_CHECKING:
    from tidings.client import Client
    from tidings.deployment import Deployment

__all__ = ["CommandContext", "config_option"]


@frozen
class CommandContext:
    """What a plugin's command is handed as click's ``ctx.obj``: the checked deployment of ``--config``."""

    deployment: Deployment
    config_path: str

    def connect(self) -> Client:
        """A client of the deployment (its store, delivery log and clock) that connects no transport."""
        from tidings.client import connect
        return connect(self.deployment, transports={})


def config_option(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """The value of the first ``--config PATH`` (or ``--config=PATH``) in `args`, and the other arguments."""
    rest = list(args)
    for i, arg in enumerate(rest):
        if arg == "--config" and i + 1 < len(rest):
            return rest[i + 1], rest[:i] + rest[i + 2:]
        if arg.startswith("--config="):
            return arg.partition("=")[2], rest[:i] + rest[i + 1:]
    return None, rest
