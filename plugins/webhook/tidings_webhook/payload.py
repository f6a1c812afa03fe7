"""The body of a webhook: a Standard Webhooks payload, ``{"type", "timestamp", "data"}``, as compact JSON.

``timestamp`` is when the message is due (the event's time, in the specification's words; the
attempt's own time is the ``webhook-timestamp`` header). ``data`` is what a host needs to act on
the message without asking back: the idempotency key, the rule, the subject (with its services
and ``data``), the client and the staff member, the recipient (its role, contact and the address
the channel chose), the services the message is about, the location, the locale, and the
rendered parts. Outside the pipeline (a test's message, the channel contract) the parts of it
the message does not carry are null. Times are RFC 3339 with their offset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidings.models import Contact
    from tidings.plugin_types import RenderedMessage

EVENT_TYPE = "tidings.message"
_CONTACT_KEYS = ("id", "name", "phone", "email", "locale")


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {"id": contact.id, "name": contact.name, "phone": contact.phone, "email": contact.email,
            "locale": contact.locale}


def _without(value: Any, *keys: str) -> Any:
    return {k: v for k, v in value.items() if k not in keys} if isinstance(value, Mapping) else value


def payload(message: RenderedMessage, *, idempotency_key: str, event_type: str = EVENT_TYPE) -> dict[str, Any]:
    """The payload of `message` (see the module docstring), before it is written as JSON."""
    context = message.context
    rule = context.get("rule") or {"id": message.rule}
    recipient = _contact(message.recipient) if context.get("recipient") is None else dict(context["recipient"])
    if recipient is not None:
        recipient = {"role": rule.get("recipient"), **{k: recipient.get(k) for k in _CONTACT_KEYS},
                     "address": message.to}
    subject = _without(context.get("subject"), "client", "staff") or {"id": message.subject}
    data = {
        "idempotency_key": idempotency_key,
        "channel": message.channel,
        "rule": dict(rule),
        "subject": dict(subject),
        "client": context.get("client"),
        "staff": context.get("staff"),
        "recipient": recipient,
        "due": message.due,
        "services": context.get("services"),
        "location": context.get("location") or dict(message.location) or None,
        "locale": message.locale,
        "parts": dict(message.parts),
    }
    return {"type": event_type, "timestamp": message.due, "data": data}


def body(document: Mapping[str, Any]) -> bytes:
    """The payload as the bytes that are signed and sent: compact UTF-8 JSON, times as RFC 3339."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=_json_value).encode("utf-8")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
