"""A small DSL for trigger tests: events from a few keywords, a simulation of real plugins on a chosen store."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from tidings.config import Config, parse_config
from tidings.simulate import Simulation

_ids = itertools.count(1)

CLIENTS = {
    "ola": {"id": "c-ola", "name": "Ola Nowak", "phone": "+48600100200", "email": "ola@example.com", "locale": "pl",
            "consents": {"sms": True, "email": True, "push": False}},
    "ivan": {"id": "c-ivan", "name": "Ivan Petrenko", "email": "ivan@example.com", "locale": "uk",
             "consents": {"sms": True, "email": True, "push": False}},
}
SERVICES = {
    "manicure": {"id": "manicure", "name": "Manicure", "category": "nails"},
    "pedicure": {"id": "pedicure", "name": "Pedicure", "category": "nails"},
    "nail-art": {"id": "nail-art", "name": "Nail art", "category": "nails"},
    "haircut": {"id": "haircut", "name": "Haircut", "category": "hair"},
}
LOCATIONS = {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw",
                          "hours": {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
                                    "thu": "09:00-18:00", "fri": "09:00-18:00", "sat": "10:00-14:00"}},
             "annex": {"name": "Annex", "timezone": "Europe/Warsaw"}}


def event(kind_verb: str, at: str, subject: str, *, status: str = "confirmed", start: str | None = None,
          services: Iterable[str] = ("manicure",), client: str = "ola", location: str = "old-town",
          previous: Mapping[str, Any] | None = None, kind: str | None = None, **extra: Any) -> dict[str, Any]:
    """One event dict; times are local Warsaw wall times like '2026-03-10 14:00' (offset added)."""
    body: dict[str, Any] = {"id": subject, "status": status, "location": location,
                            "services": [SERVICES[s] for s in services], "client": CLIENTS[client],
                            "staff": {"id": "s-anna", "name": "Anna", "phone": "+48600000001", "email": "anna@salon.example"}}
    if start is not None:
        body["start"] = warsaw(start)
    body.update(extra)
    out: dict[str, Any] = {"id": f"evt-{next(_ids)}", "type": f"{kind or 'appointment'}.{kind_verb}",
                           "occurred_at": warsaw(at), "subject": body}
    if previous is not None:
        out["previous"] = {k: warsaw(v) if k == "start" else v for k, v in previous.items()}
    return out


def warsaw(local: str) -> str:
    """'2026-03-10 14:00' in Europe/Warsaw as RFC 3339 with its offset."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Warsaw")).isoformat()


def config(*rules: Mapping[str, Any], **tidings: Any) -> Config:
    return parse_config({"tidings": {"timezone": "Europe/Warsaw", **tidings},
                         "plugins": {"channels": ["sms", "email", "push"],
                                     "triggers": ["status-change", "pre-visit", "post-visit", "repeat-visit"]},
                         "locations": LOCATIONS, "rules": list(rules)})


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Any:
    """The same trigger suite runs on both schedule-store backends."""
    if request.param == "memory":
        from tidings.store.memory import MemoryStore
        return MemoryStore()
    return request.getfixturevalue("redis_store")


@pytest.fixture
def run(store: Any) -> Callable[..., list[dict[str, Any]]]:
    """Simulate events under rules and return the sent messages as (UTC time, rule, channel, to, subject) dicts."""
    def go(rules: list[Mapping[str, Any]], events: list[dict[str, Any]], *, explain: bool = False,
           until: str | None = None) -> list[dict[str, Any]]:
        from tidings.converter import parse_aware
        from tidings.models import Event
        from tidings.simulate import output_records
        sim = Simulation(config(*rules), store=store)
        try:
            for raw in events:
                sim.feed(Event.from_dict(raw))
            if until is None:
                sim.advance()
            else:
                sim.advance(parse_aware(warsaw(until)))
        finally:
            sim.close()
        return list(output_records(sim.entries, explain=explain))
    return go


def sent(records: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(local Warsaw time, rule, channel, subject) of each sent message, in order."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    out = []
    for r in records:
        if "reason" not in r:
            local = datetime.fromisoformat(r["at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Warsaw"))
            out.append((local.strftime("%Y-%m-%d %H:%M"), r["rule"], r["channel"], r["subject"]))
    return out


@pytest.fixture
def dsl() -> Any:
    """The event builders and result readers above, for test modules (importlib mode cannot import conftest)."""
    import types
    return types.SimpleNamespace(event=event, sent=sent, warsaw=warsaw, config=config)
