"""pre-visit (PRODUCT §5): one reminder at start - before, moved with the visit and dropped with it."""

from __future__ import annotations

from typing import Any

import pytest

R24 = {"id": "reminder-24h", "trigger": "pre-visit", "before": "24h", "channel": "prefer_sms"}
R1 = {"id": "reminder-1h", "trigger": "pre-visit", "before": "1h", "channel": "prefer_email"}


def test_one_reminder_at_start_minus_before(run: Any, dsl: Any) -> None:
    records = run([R24], [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00")])
    assert dsl.sent(records) == [("2026-03-09 14:00", "reminder-24h", "sms", "a-1")]


def test_a_reschedule_moves_the_reminder_and_the_old_one_is_never_sent(run: Any, dsl: Any) -> None:
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00"),
              dsl.event("rescheduled", "2026-03-03 10:00", "a-1", start="2026-03-11 16:00", previous={"start": "2026-03-10 14:00"})]
    assert dsl.sent(run([R24], events)) == [("2026-03-10 16:00", "reminder-24h", "sms", "a-1")]


def test_rescheduling_back_and_forth_never_yields_two_reminders(run: Any, dsl: Any) -> None:
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00"),
              dsl.event("rescheduled", "2026-03-03 10:00", "a-1", start="2026-03-11 16:00", previous={"start": "2026-03-10 14:00"}),
              dsl.event("rescheduled", "2026-03-04 10:00", "a-1", start="2026-03-10 14:00", previous={"start": "2026-03-11 16:00"}),
              dsl.event("rescheduled", "2026-03-05 10:00", "a-1", start="2026-03-11 16:00", previous={"start": "2026-03-10 14:00"})]
    assert dsl.sent(run([R24], events)) == [("2026-03-10 16:00", "reminder-24h", "sms", "a-1")]


def test_moving_back_to_a_time_already_reminded_of_does_not_remind_again(run: Any, dsl: Any) -> None:
    # Given a reminder that went out for 14:00, When the visit moves to 16:00 and back to 14:00 after it went out
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00"),
              dsl.event("rescheduled", "2026-03-09 15:00", "a-1", start="2026-03-10 16:00", previous={"start": "2026-03-10 14:00"}),
              dsl.event("rescheduled", "2026-03-09 15:30", "a-1", start="2026-03-10 14:00", previous={"start": "2026-03-10 16:00"})]
    records = run([R24], events)
    # Then the reminder planned for 16:00 is dropped with the move back, and 14:00 is not reminded of twice
    assert dsl.sent(records) == [("2026-03-09 14:00", "reminder-24h", "sms", "a-1")]


@pytest.mark.parametrize("status", ["cancelled", "rejected", "no_show"])
def test_a_cancelled_rejected_or_no_show_visit_drops_its_reminder(run: Any, dsl: Any, status: str) -> None:
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00"),
              dsl.event("status_changed", "2026-03-05 09:00", "a-1", status=status, start="2026-03-10 14:00", previous={"status": "confirmed"})]
    records = run([R24, R1], events, explain=True)
    assert dsl.sent(records) == []
    assert {(r["rule"], r["status"]) for r in records if r.get("status") == "dropped"} == {("reminder-24h", "dropped"), ("reminder-1h", "dropped")}


def test_a_reminder_already_past_at_booking_is_skipped_but_a_shorter_one_still_goes(run: Any, dsl: Any) -> None:
    records = run([R24, R1], [dsl.event("created", "2026-03-04 08:00", "a-2", client="ivan", start="2026-03-04 10:30")], explain=True)
    assert dsl.sent(records) == [("2026-03-04 09:30", "reminder-1h", "email", "a-2")]
    assert [(r["rule"], r["reason"]) for r in records if r.get("status") == "skipped"] == [("reminder-24h", "too_late")]


def test_late_send_sends_a_past_reminder_at_once_while_the_visit_is_ahead(run: Any, dsl: Any) -> None:
    late = {**R24, "late": "send"}
    records = run([late], [dsl.event("created", "2026-03-04 08:00", "a-1", start="2026-03-04 10:30"),
                           dsl.event("created", "2026-03-04 12:00", "a-2", start="2026-03-04 11:00")])
    assert dsl.sent(records) == [("2026-03-04 08:00", "reminder-24h", "sms", "a-1")]


def test_a_late_reminder_is_not_sent_again_when_the_visit_changes_status(run: Any, dsl: Any) -> None:
    late = {**R24, "late": "send"}
    events = [dsl.event("created", "2026-03-04 08:00", "a-1", status="pending", start="2026-03-04 18:30"),
              dsl.event("status_changed", "2026-03-04 09:00", "a-1", status="confirmed", start="2026-03-04 18:30", previous={"status": "pending"})]
    assert dsl.sent(run([late], events)) == [("2026-03-04 08:00", "reminder-24h", "sms", "a-1")]


def test_several_pre_visit_rules_are_independent(run: Any, dsl: Any) -> None:
    records = run([R24, R1], [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00")])
    assert dsl.sent(records) == [("2026-03-09 14:00", "reminder-24h", "sms", "a-1"),
                                 ("2026-03-10 13:00", "reminder-1h", "email", "a-1")]


def test_only_the_rule_statuses_get_reminders(run: Any, dsl: Any) -> None:
    confirmed_only = {**R24, "statuses": ["confirmed"]}
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", status="pending", start="2026-03-10 14:00"),
              dsl.event("created", "2026-03-02 09:00", "a-2", status="pending", start="2026-03-10 15:00"),
              dsl.event("status_changed", "2026-03-03 09:00", "a-2", status="confirmed", start="2026-03-10 15:00", previous={"status": "pending"})]
    assert dsl.sent(run([confirmed_only], events)) == [("2026-03-09 15:00", "reminder-24h", "sms", "a-2")]


def test_orders_with_a_booked_time_get_reminders_and_orders_without_one_do_not(run: Any, dsl: Any) -> None:
    rule = {**R24, "kind": "order", "statuses": ["accepted"]}
    events = [dsl.event("created", "2026-03-02 09:00", "o-1", kind="order", status="accepted", start="2026-03-10 14:00"),
              dsl.event("created", "2026-03-02 09:00", "o-2", kind="order", status="accepted")]
    assert dsl.sent(run([rule], events)) == [("2026-03-09 14:00", "reminder-24h", "sms", "o-1")]


def test_a_day_before_is_the_same_local_time_across_daylight_saving(run: Any, dsl: Any) -> None:
    rule = {**R24, "before": "1d"}
    # the visit is on Monday 30 March 2026, the day after the spring change
    records = run([rule], [dsl.event("created", "2026-03-20 09:00", "a-1", start="2026-03-30 10:00")])
    assert dsl.sent(records) == [("2026-03-29 10:00", "reminder-24h", "sms", "a-1")]


def test_a_mute_set_after_planning_stops_the_reminder_at_due_time(run: Any, dsl: Any) -> None:
    events = [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00"),
              dsl.event("status_changed", "2026-03-03 09:00", "a-1", status="confirmed", start="2026-03-10 14:00",
                        previous={"status": "pending"}, mute=["reminder-24h"])]
    records = run([R24, R1], events, explain=True)
    assert dsl.sent(records) == [("2026-03-10 13:00", "reminder-1h", "email", "a-1")]
    assert [(r["rule"], r["reason"]) for r in records if r.get("status") == "skipped"] == [("reminder-24h", "muted")]


def test_mute_true_silences_every_rule_for_the_subject(run: Any, dsl: Any) -> None:
    records = run([R24, R1], [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00", mute=True)])
    assert dsl.sent(records) == []


def test_mute_true_silences_the_client_but_staff_rules_still_fire(run: Any, dsl: Any) -> None:
    staff = {**R1, "id": "staff-1h", "recipient": "staff", "channel": "sms"}
    records = run([R24, staff], [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00", mute=True)],
                  explain=True)
    assert dsl.sent(records) == [("2026-03-10 13:00", "staff-1h", "sms", "a-1")]
    assert [(r["rule"], r["reason"]) for r in records if r.get("status") == "skipped"] == [("reminder-24h", "muted")]


def test_a_mute_list_silences_exactly_its_rules_staff_or_client(run: Any, dsl: Any) -> None:
    staff = {**R1, "id": "staff-1h", "recipient": "staff", "channel": "sms"}
    records = run([R24, staff], [dsl.event("created", "2026-03-02 09:00", "a-1", start="2026-03-10 14:00", mute=["staff-1h"])])
    assert dsl.sent(records) == [("2026-03-09 14:00", "reminder-24h", "sms", "a-1")]


# ---------------------------------------------------------------- events of one visit taken out of order


def booked_then_moved(dsl: Any, *, moved_at: str = "2026-03-02 09:00:00.001") -> tuple[dict[str, Any], dict[str, Any]]:
    created = dsl.event("created", "2026-03-02 09:00:00.000", "a-1", start="2026-03-10 14:00")
    moved = dsl.event("rescheduled", moved_at, "a-1", start="2026-03-11 16:00", previous={"start": "2026-03-10 14:00"})
    return created, moved


def test_a_booking_taken_after_its_reschedule_does_not_move_the_reminder_back(run: Any, dsl: Any) -> None:
    # Given a visit booked and moved a millisecond later, When a worker takes the move first
    created, moved = booked_then_moved(dsl)
    records = run([R24], [moved, created], explain=True)
    # Then the one reminder is for the new time, and nothing is dropped at due time as "visit_moved"
    assert dsl.sent(records) == [("2026-03-10 16:00", "reminder-24h", "sms", "a-1")]
    assert [r for r in records if r.get("status") == "skipped"] == []


def test_a_booking_taken_after_its_cancellation_brings_no_reminder_back(run: Any, dsl: Any) -> None:
    created = dsl.event("created", "2026-03-02 09:00:00.000", "a-1", start="2026-03-10 14:00")
    cancelled = dsl.event("status_changed", "2026-03-02 09:00:00.001", "a-1", status="cancelled", start="2026-03-10 14:00",
                          previous={"status": "confirmed"})
    # nothing is planned for the older event: no reminder waits in the store to be skipped at due time
    assert run([R24], [cancelled, created], explain=True) == []


@pytest.mark.parametrize("taken", ["in-order", "reversed"])
def test_events_at_the_same_moment_plan_the_same_reminder_whichever_is_taken_first(run: Any, dsl: Any, taken: str) -> None:
    # a creation comes before any other event of its visit at the same moment
    created, moved = booked_then_moved(dsl, moved_at="2026-03-02 09:00:00.000")
    events = [created, moved] if taken == "in-order" else [moved, created]
    assert dsl.sent(run([R24], events)) == [("2026-03-10 16:00", "reminder-24h", "sms", "a-1")]


@pytest.mark.parametrize("taken", ["in-order", "reversed"])
def test_two_changes_at_the_same_moment_are_ordered_by_event_id(run: Any, dsl: Any, taken: str) -> None:
    first = dsl.event("rescheduled", "2026-03-02 09:00", "a-1", start="2026-03-11 16:00", previous={"start": "2026-03-10 14:00"})
    second = dsl.event("rescheduled", "2026-03-02 09:00", "a-1", start="2026-03-12 10:00", previous={"start": "2026-03-10 14:00"})
    first["id"], second["id"] = "evt-0001", "evt-0002"
    events = [first, second] if taken == "in-order" else [second, first]
    assert dsl.sent(run([R24], events)) == [("2026-03-11 10:00", "reminder-24h", "sms", "a-1")]


def test_statuses_of_an_appointment_reminder_must_be_appointment_statuses(dsl: Any) -> None:
    from tidings.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        dsl.config({**R24, "statuses": ["confirmed", "booked"]})
    [problem] = caught.value.problems
    assert problem.path == "rules[0] (reminder-24h).statuses"
    assert problem.message.startswith("'booked' is not an appointment status (choose one of: pending, confirmed,")


def test_a_reminder_zero_minutes_before_the_visit_is_refused_naming_the_key(dsl: Any) -> None:
    from tidings.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        dsl.config({**R24, "before": "0m"})
    assert [str(p) for p in caught.value.problems] == [
        "rules[0] (reminder-24h).before: '0m' is zero: a reminder at the start of the visit comes too late to be of use; "
        "use a positive duration"]
