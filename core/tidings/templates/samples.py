"""A sample event and its context, for `tidings check` and `tidings preview` to render every rule on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tidings.models import Event, evolve
from tidings.templates.context import build_context

if TYPE_CHECKING:
    from tidings.registry import Registry
    from tidings.rules import Config, Rule

__all__ = ["Deployed", "SampleData", "sample_context", "sample_event"]


class Deployed(Protocol):
    """What the sample functions need of a deployment: its configuration and its plugins (a `Deployment`)."""

    @property
    def config(self) -> Config: ...

    @property
    def registry(self) -> Registry: ...


def sample_event(deployed: Deployed, rule: Rule) -> Event:
    """A full event of the rule's kind (every optional field set), for `check` and `preview`."""
    config = deployed.config
    trigger = deployed.registry.triggers.get(rule.trigger)
    if trigger is not None and trigger.sample is not None:
        return trigger.sample()
    location = rule.locations[0] if rule.locations else next(iter(config.locations), None)
    start = datetime(2026, 3, 10, 14, 0, tzinfo=config.zone(location))
    return Event.from_dict({
        "id": "evt-sample", "type": f"{rule.kind}.status_changed", "occurred_at": (start - timedelta(days=8)).isoformat(),
        "subject": {"id": "sample-1", "status": "confirmed", "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(), "location": location,
                    "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                    "staff": {"id": "s-1", "name": "Anna Kowalska", "phone": "+48600000001", "email": "anna@salon.example"},
                    "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48600100200", "email": "ola@example.com",
                               "locale": config.tidings.locale, "consents": {"sms": True, "email": True, "push": True}},
                    "data": {"price": "120 PLN"}},
        "previous": {"status": "pending", "start": (start - timedelta(days=1)).isoformat()},
    })


class SampleData(dict[str, Any]):
    """A sample's free-form `data`: any key a template reads has a placeholder value."""

    def __missing__(self, key: str) -> str:
        return f"[{key}]"


def sample_context(deployed: Deployed, rule: Rule, *, event: Event | None = None, locale: str | None = None) -> dict[str, Any]:
    """The context a rule's template sees for a sample (or the given) event."""
    config = deployed.config
    event = event or sample_event(deployed, rule)
    subject = event.subject
    recipient = subject.client if rule.recipient == "client" else subject.staff
    if locale is not None and recipient is not None:
        recipient = evolve(recipient, locale=locale)
    context = build_context(config=config, rule=rule, subject=subject, previous=event.previous, event=event,
                            recipient=recipient, location=config.location(subject.location), now=event.occurred_at)
    context["data"] = context["subject"]["data"] = SampleData(context["data"])
    if locale is not None:
        context["_locale"] = locale
    return context
