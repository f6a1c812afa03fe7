"""The real transports of the enabled channels: built by a worker, and by nothing else.

`tidings check` asks each channel whether it could connect (`Channel.verify`, no I/O); connecting is
the worker's job, because only a worker delivers and needs the providers' secrets. A channel that
keeps data of its own (`Channel.uses_store`: the manual channel's queue) is connected with its
namespace of the deployment's schedule store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tidings.deployment import Deployment, as_deployment
from tidings.errors import ConfigError, Problem

if TYPE_CHECKING:
    from tidings.plugin_types import Transport
    from tidings.rules import Config
    from tidings.store import ScheduleStore

__all__ = ["connect_transports"]


def connect_transports(source: Deployment | Config, *, store: ScheduleStore | None = None) -> dict[str, Transport]:
    """The real transports of the enabled channels, built from their settings (the worker's job only).

    Args:
        store: the deployment's schedule store, whose namespaces channels with `uses_store` are given.

    Raises:
        ConfigError: listing what every channel that cannot connect is missing, not only the first's.
    """
    deployment = as_deployment(source)
    config = deployment.config
    transports: dict[str, Transport] = {}
    problems: list[Problem] = []
    for name, channel in deployment.registry.channels.items():
        if name in config.plugins.channels:
            settings = config.channels.get(name)
            try:
                if not channel.uses_store:
                    transports[name] = channel.connect(settings)
                elif store is None:
                    problems.append(Problem(f"channels.{name}", f"the {name} channel keeps its messages in the "
                                            "schedule store, and none was given to connect it with"))
                else:
                    from tidings.store.data import PluginData
                    transports[name] = channel.connect(settings, data=PluginData(store, name))  # type: ignore[call-arg]
            except ConfigError as e:
                problems.extend(e.problems)
    if problems:
        for transport in transports.values():
            transport.close()
        raise ConfigError(problems)
    return transports
