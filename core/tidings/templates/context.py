"""What a template sees (PRODUCT §4): the context of one message, as plain dicts and lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidings.models import Contact, Event, Previous, Subject
    from tidings.rules import Config, Location, Rule

__all__ = ["build_context"]


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    name = contact.name or ""
    return {"id": contact.id, "name": name, "first_name": name.split(" ")[0] if name else "",
            "phone": contact.phone, "email": contact.email, "locale": contact.locale}


def build_context(*, config: Config, rule: Rule, subject: Subject, previous: Previous | None, event: Event | None,
                  recipient: Contact | None, location: Location, now: datetime | None = None,
                  services: Iterable[str] | None = None) -> dict[str, Any]:
    """What a template sees (PRODUCT §4): plain dicts and lists, nothing with Python behaviour.

    Args:
        services: the ids of the services the message is about (a trigger's `Send.services`): the
            template's `services` lists the subject's services of those ids, each once; None lists all.
            `subject.services` is always the whole visit.
    """
    every = [{"id": s.id, "name": s.name, "category": s.category} for s in subject.services]
    client, staff, data = _contact(subject.client), _contact(subject.staff), dict(subject.data)
    zone = location.timezone or config.tidings.timezone
    moment = now or (event.occurred_at if event is not None else None)
    return {
        "client": client,
        "staff": staff,
        "recipient": _contact(recipient),
        "subject": {"id": subject.id, "kind": event.kind if event is not None else rule.kind, "status": subject.status,
                    "start": subject.start, "end": subject.end, "location": subject.location,
                    "services": every, "data": data, "client": client, "staff": staff},
        "previous": None if previous is None else {"status": previous.status, "start": previous.start},
        "services": every if services is None else _about(every, services),
        "location": {"id": location.id, "name": location.name, "address": location.address, "phone": location.phone,
                     "timezone": str(zone)},
        "rule": {"id": rule.id, "trigger": rule.trigger, "kind": rule.kind, "recipient": rule.recipient,
                 "template": rule.template},
        "data": data,
        "event": None if event is None else {"id": event.id, "type": event.type, "kind": event.kind, "verb": event.verb,
                                             "occurred_at": event.occurred_at},
        "_zone": str(zone),
        "_locale": (recipient.locale if recipient is not None else None) or config.tidings.locale,
        "_now": moment,
    }


def _about(services: list[dict[str, Any]], ids: Iterable[str]) -> list[dict[str, Any]]:
    """The services of these ids, in the visit's order, each id once (a visit may list one service twice)."""
    wanted = set(ids)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for service in services:
        if service["id"] in wanted and service["id"] not in seen:
            seen.add(service["id"])
            out.append(service)
    return out
