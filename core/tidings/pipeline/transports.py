"""The real transports of the enabled channels: built by a worker, and by nothing else.

`tidings check` asks each channel whether it could connect (`Channel.verify`, no I/O); connecting is
the worker's job, because only a worker delivers and needs the providers' secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.deployment import Deployment, as_deployment
from tidings.errors import ConfigError, Problem

if TYPE_CHECKING:
    from tidings.plugin_types import Transport
    from tidings.rules import Config

__all__ = ["connect_transports"]


def connect_transports(source: Deployment | Config) -> dict[str, Transport]:
    """The real transports of the enabled channels, built from their settings (the worker's job only).

    Raises:
        ConfigError: listing what every channel that cannot connect is missing, not only the first's.
    """
    deployment = as_deployment(source)
    config = deployment.config
    transports: dict[str, Transport] = {}
    problems: list[Problem] = []
    for name, channel in deployment.registry.channels.items():
        if name in config.plugins.channels:
            try:
                transports[name] = channel.connect(config.channels.get(name))
            except ConfigError as e:
                problems.extend(e.problems)
    if problems:
        for transport in transports.values():
            transport.close()
        raise ConfigError(problems)
    return transports
