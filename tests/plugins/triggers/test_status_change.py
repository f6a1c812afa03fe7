"""status-change (PRODUCT §5): one message per matching event, at its time plus the rule's delay."""

from __future__ import annotations

from typing import Any

import pytest

CONFIRMED = {"id": "confirmed", "trigger": "status-change", "on": "status_changed",
             "from": ["pending"], "to": ["confirmed"], "channel": "sms"}


def test_a_created_rule_fires_at_the_time_of_the_event(run: Any, dsl: Any) -> None:
    rule = {"id": "created", "trigger": "status-change", "on": "created", "channel": "prefer_email"}
    records = run([rule], [dsl.event("created", "2026-03-27 17:30", "a-1", status="pending", start="2026-03-28 12:00")])
    assert dsl.sent(records) == [("2026-03-27 17:30", "created", "email", "a-1")]


def test_to_and_from_filters_must_both_match(run: Any, dsl: Any) -> None:
    events = [
        dsl.event("status_changed", "2026-03-02 10:00", "a-1", status="confirmed", start="2026-03-09 12:00", previous={"status": "pending"}),
        dsl.event("status_changed", "2026-03-02 11:00", "a-2", status="confirmed", start="2026-03-09 12:00", previous={"status": "rejected"}),
        dsl.event("status_changed", "2026-03-02 12:00", "a-3", status="cancelled", start="2026-03-09 12:00", previous={"status": "pending"}),
    ]
    assert dsl.sent(run([CONFIRMED], events)) == [("2026-03-02 10:00", "confirmed", "sms", "a-1")]


def test_a_rule_for_another_verb_or_kind_stays_silent(run: Any, dsl: Any) -> None:
    events = [dsl.event("created", "2026-03-02 10:00", "a-1", status="confirmed", start="2026-03-09 12:00"),
              dsl.event("status_changed", "2026-03-02 11:00", "o-1", status="confirmed", previous={"status": "pending"}, kind="order")]
    assert run([CONFIRMED], events) == []


def test_delay_shifts_the_message(run: Any, dsl: Any) -> None:
    rule = {**CONFIRMED, "delay": "15m"}
    events = [dsl.event("status_changed", "2026-03-02 10:00", "a-1", start="2026-03-09 12:00", previous={"status": "pending"})]
    assert dsl.sent(run([rule], events)) == [("2026-03-02 10:15", "confirmed", "sms", "a-1")]


def test_two_quick_changes_are_two_messages_not_one_replacing_the_other(run: Any, dsl: Any) -> None:
    rule = {"id": "any-change", "trigger": "status-change", "on": "status_changed", "channel": "sms", "delay": "10m"}
    events = [dsl.event("status_changed", "2026-03-02 10:00", "a-1", status="confirmed", start="2026-03-09 12:00", previous={"status": "pending"}),
              dsl.event("status_changed", "2026-03-02 10:01", "a-1", status="cancelled", start="2026-03-09 12:00", previous={"status": "confirmed"})]
    assert [m[0] for m in dsl.sent(run([rule], events))] == ["2026-03-02 10:10", "2026-03-02 10:11"]


def test_a_rescheduled_rule_gives_templates_the_new_and_the_previous_start(run: Any, dsl: Any) -> None:
    rule = {"id": "moved", "trigger": "status-change", "on": "rescheduled", "channel": "sms", "template": "moved"}
    from tidings.config import parse_config
    base = dsl.config({k: v for k, v in rule.items() if k != "template"})
    cfg = parse_config({"tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": list(base.plugins.channels), "triggers": list(base.plugins.triggers)},
                        "locations": {"old-town": {"timezone": "Europe/Warsaw"}}, "rules": [rule],
                        "templates": {"moved": {"sms": "from {{ previous.start | time('HH:mm') }} to {{ subject.start | time('HH:mm') }}"}}})
    from tidings.models import Event
    from tidings.simulate import Simulation
    sim = Simulation(cfg)
    try:
        sim.feed(Event.from_dict(dsl.event("rescheduled", "2026-03-02 10:00", "a-1", start="2026-03-09 16:00",
                                            previous={"start": "2026-03-09 12:00"})))
        sim.advance()
    finally:
        sim.close()
    [message] = sim.sent()
    assert "12:00" in message["text"] and "16:00" in message["text"]


@pytest.mark.parametrize("kind", ["order", "lead"])
def test_orders_and_leads_accept_any_status(run: Any, dsl: Any, kind: str) -> None:
    rule = {"id": "ready", "trigger": "status-change", "kind": kind, "on": "status_changed", "to": ["ready_for_pickup"], "channel": "sms"}
    events = [dsl.event("status_changed", "2026-03-02 10:00", "o-1", status="ready_for_pickup", previous={"status": "in_repair"}, kind=kind)]
    assert dsl.sent(run([rule], events)) == [("2026-03-02 10:00", "ready", "sms", "o-1")]


def test_a_creation_taken_after_its_reschedule_is_still_confirmed_and_names_the_new_time(run: Any, dsl: Any) -> None:
    booked = {"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms"}
    moved = {"id": "moved", "trigger": "status-change", "on": "rescheduled", "channel": "sms"}
    created = dsl.event("created", "2026-03-02 09:00:00.000", "a-1", start="2026-03-10 14:00")
    rescheduled = dsl.event("rescheduled", "2026-03-02 09:00:00.001", "a-1", start="2026-03-11 16:00",
                            previous={"start": "2026-03-10 14:00"})
    records = run([booked, moved], [rescheduled, created])
    assert sorted(r["rule"] for r in records) == ["booked", "moved"]
    [confirmation] = [r for r in records if r["rule"] == "booked"]
    assert "16:00" in confirmation["text"] and "14:00" not in confirmation["text"]


def test_to_and_from_of_an_appointment_rule_must_be_appointment_statuses_with_a_suggestion(dsl: Any) -> None:
    from tidings.errors import ConfigError
    rule = {**CONFIRMED, "to": ["confirmd"], "from": "pendng"}
    with pytest.raises(ConfigError) as caught:
        dsl.config(rule)
    assert [(p.path, p.message.split(" (")[0]) for p in caught.value.problems] == [
        ("rules[0] (confirmed).to", "'confirmd' is not an appointment status; did you mean 'confirmed'?"),
        ("rules[0] (confirmed).from", "'pendng' is not an appointment status; did you mean 'pending'?")]


def test_a_single_status_is_a_list_of_one_not_of_letters(dsl: Any) -> None:
    rule = dsl.config({**CONFIRMED, "to": "confirmed", "from": "pending"}).rules[0]
    assert rule.to == ("confirmed",) and rule.from_ == ("pending",)
