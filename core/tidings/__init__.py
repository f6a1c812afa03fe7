"""tidings: the messages that keep a service business's clients coming back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidings.errors import (
    ConfigError,
    DeliveryError,
    EventError,
    InvalidValue,
    PermanentDeliveryError,
    PluginError,
    Problem,
    TemplateError,
    TidingsError,
    TransientDeliveryError,
)
from tidings.models import Contact, Event, Previous, PushSubscription, Service, Subject
from tidings.plugin_types import (
    ROLES,
    STATUSES,
    Channel,
    Command,
    Description,
    Drop,
    NoAddress,
    NoConfig,
    Pending,
    Receipt,
    RenderedMessage,
    Restore,
    Send,
    Skip,
    Suspend,
    TemplateFilter,
    TemplateGlobal,
    TemplateTexts,
    Transport,
    Trigger,
)
from tidings.deployment import Deployment
from tidings.hookspecs import hookimpl
from tidings.plugins import build_registry, registry_for
from tidings.registry import Registry

__version__ = "0.1.0"

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from tidings.client import Client
    from tidings.clock import Clock
    from tidings.rules import Config


def connect(config: str | os.PathLike[str] | Mapping[str, Any] | Config | Deployment, *,
            transports: Mapping[str, Transport] | None = None, clock: Clock | None = None) -> Client:
    """A client of a deployment, for a host program: ``tidings.connect("tidings.toml").publish(event)``.

    See `tidings.client.connect` (imported on first use: ``import tidings`` stays light).
    """
    from tidings.client import connect as _connect
    return _connect(config, transports=transports, clock=clock)


__all__ = [
    # Hosts
    "connect",
    # Plugins
    "hookimpl", "Registry", "build_registry", "registry_for",
    "Channel", "Command", "ROLES", "Description", "Trigger", "TemplateFilter", "TemplateGlobal", "TemplateTexts", "Transport", "NoConfig",
    "NoAddress", "RenderedMessage", "Receipt", "Send", "Drop", "Suspend", "Restore", "Skip", "Pending", "STATUSES",
    # Models
    "Deployment", "Event", "Subject", "Contact", "Service", "Previous", "PushSubscription",
    # Errors
    "TidingsError", "ConfigError", "EventError", "PluginError", "TemplateError", "DeliveryError",
    "TransientDeliveryError", "PermanentDeliveryError", "Problem", "InvalidValue",
]
