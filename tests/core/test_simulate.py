"""`tidings simulate` (PRODUCT §9): what it tells about the events it reads, beside what it would send."""

from __future__ import annotations

import io
import json
from typing import Any

from tidings.config import Config, parse_config
from tidings.simulate import simulate


def config(**tidings: Any) -> Config:
    return parse_config({"tidings": {"timezone": "Europe/Warsaw", **tidings},
                         "plugins": {"channels": ["sms"], "triggers": ["status-change", "pre-visit"]},
                         "locations": {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw"}},
                         "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms"},
                                   {"id": "reminder", "trigger": "pre-visit", "before": "24h", "channel": "sms"}]})


def line(n: int, *, type_: str = "appointment.created", start: str | None = "2026-03-10T14:00:00+01:00",
         previous: dict[str, Any] | None = None, **subject: Any) -> str:
    body: dict[str, Any] = {"id": f"a-{n}", "status": "confirmed", "location": "old-town",
                            "client": {"id": f"c-{n}", "phone": "+48600100200", "consents": {"sms": True}}, **subject}
    if start is not None:
        body["start"] = start
    event = {"id": f"evt-{n}", "type": type_, "occurred_at": f"2026-03-02T09:{n:02d}:00+01:00", "subject": body}
    if previous is not None:
        event["previous"] = previous
    return json.dumps(event)


def run(lines: list[str], cfg: Config | None = None, *, explain: bool = False) -> tuple[list[dict[str, Any]], str]:
    errors = io.StringIO()
    records = simulate(cfg or config(), lines, explain=explain, errors=errors)
    return records, errors.getvalue()


def test_a_key_outside_the_contract_is_printed_once_per_path_and_the_events_still_run() -> None:
    records, errors = run([line(1, clinet={"id": "x"}), line(2, clinet={"id": "y"})])
    assert errors.splitlines() == ["warning: event evt-1: subject.clinet is not a key of the event contract (ignored)"]
    assert sorted((r["rule"], r["subject"]) for r in records) == [("booked", "a-1"), ("booked", "a-2"),
                                                                  ("reminder", "a-1"), ("reminder", "a-2")]


def test_with_strict_events_a_key_outside_the_contract_rejects_its_event() -> None:
    records, errors = run([line(1, clinet={"id": "x"}), line(2)], config(strict_events=True))
    assert errors.splitlines() == ["line 1: event evt-1: subject.clinet is not a key of the event contract (strict_events is on)"]
    assert {r["subject"] for r in records} == {"a-2"}


def test_an_event_at_an_undefined_location_is_rejected_and_the_next_still_runs() -> None:
    records, errors = run([line(1, location="old-twon"), line(2)])
    assert errors.splitlines() == ["line 1: event evt-1: subject.location 'old-twon' is not a location of the configuration "
                                   "(defined: old-town)"]
    assert {r["subject"] for r in records} == {"a-2"}


def test_explain_shows_events_of_unknown_types_that_no_rule_reacted_to() -> None:
    records, _ = run([line(1, type_="invoice.created"),
                      line(2, type_="appointment.paid", start=None),
                      line(3, type_="appointment.paid")],   # pre-visit plans a reminder for it: a rule reacted
                     explain=True)
    ignored = [(r["event"], r["type"], r["reason"], r["rule"]) for r in records if r.get("status") == "ignored"]
    assert ignored == [("evt-1", "invoice.created", "unknown_event_type", None),
                       ("evt-2", "appointment.paid", "unknown_event_type", None)]
    assert [(r["rule"], r["subject"]) for r in records if "reason" not in r] == [("reminder", "a-3")]


def test_a_known_event_no_rule_reacted_to_writes_nothing() -> None:
    records, _ = run([line(1, type_="appointment.status_changed", start=None, previous={"status": "pending"})], explain=True)
    assert records == []
