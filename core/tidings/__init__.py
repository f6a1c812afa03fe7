"""tidings: the messages that keep a service business's clients coming back."""

from __future__ import annotations

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
    STATUSES,
    Channel,
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

__all__ = [
    # Plugins
    "hookimpl", "Registry", "build_registry", "registry_for",
    "Channel", "Trigger", "TemplateFilter", "TemplateGlobal", "TemplateTexts", "Transport", "NoConfig",
    "NoAddress", "RenderedMessage", "Receipt", "Send", "Drop", "Suspend", "Restore", "Skip", "Pending", "STATUSES",
    # Models
    "Deployment", "Event", "Subject", "Contact", "Service", "Previous", "PushSubscription",
    # Errors
    "TidingsError", "ConfigError", "EventError", "PluginError", "TemplateError", "DeliveryError",
    "TransientDeliveryError", "PermanentDeliveryError", "Problem", "InvalidValue",
]
