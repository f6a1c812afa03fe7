"""post-visit (PRODUCT §5): one message after the status is reached, dropped if it moves away first."""

from __future__ import annotations

from typing import Any

REVIEW = {"id": "review-request", "trigger": "post-visit", "after": "1h", "channel": "prefer_email"}


def test_a_completed_visit_gets_one_message_after_the_delay(run: Any, dsl: Any) -> None:
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", client="ivan",
                        start="2026-04-02 12:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([REVIEW], events)) == [("2026-04-02 14:15", "review-request", "email", "a-1")]


def test_a_status_that_moves_away_before_the_message_drops_it(run: Any, dsl: Any) -> None:
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", start="2026-04-02 12:00", previous={"status": "confirmed"}),
              dsl.event("status_changed", "2026-04-02 13:40", "a-1", status="no_show", start="2026-04-02 12:00", previous={"status": "completed"})]
    assert dsl.sent(run([REVIEW], events)) == []


def test_another_event_that_keeps_the_status_does_not_send_twice(run: Any, dsl: Any) -> None:
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", start="2026-04-02 12:00", previous={"status": "confirmed"}),
              dsl.event("rescheduled", "2026-04-02 13:20", "a-1", status="completed", start="2026-04-02 11:30", previous={"start": "2026-04-02 12:00"})]
    assert dsl.sent(run([REVIEW], events)) == [("2026-04-02 14:15", "review-request", "email", "a-1")]


def test_on_status_chooses_the_status_that_starts_the_wait(run: Any, dsl: Any) -> None:
    rule = {**REVIEW, "id": "sorry", "on_status": "no_show", "after": "2h", "channel": "sms"}
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="no_show", start="2026-04-02 12:00", previous={"status": "confirmed"}),
              dsl.event("status_changed", "2026-04-02 13:15", "a-2", status="completed", start="2026-04-02 12:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([rule], events)) == [("2026-04-02 15:15", "sorry", "sms", "a-1")]


def test_working_hours_move_a_saturday_evening_message_to_monday_across_daylight_saving(run: Any, dsl: Any) -> None:
    rule = {**REVIEW, "working_hours": True}
    events = [dsl.event("status_changed", "2026-03-28 13:30", "a-1", status="completed", start="2026-03-28 12:00", previous={"status": "confirmed"})]
    records = run([rule], events)
    assert dsl.sent(records) == [("2026-03-30 09:00", "review-request", "email", "a-1")]
    assert records[0]["at"] == "2026-03-30T07:00:00Z"


def test_a_location_without_hours_has_no_restriction(run: Any, dsl: Any) -> None:
    rule = {**REVIEW, "working_hours": True}
    events = [dsl.event("status_changed", "2026-03-28 22:30", "a-1", status="completed", location="annex",
                        start="2026-03-28 21:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([rule], events)) == [("2026-03-28 23:30", "review-request", "email", "a-1")]


def test_a_rule_limited_to_locations_ignores_the_others(run: Any, dsl: Any) -> None:
    rule = {**REVIEW, "locations": ["annex"]}
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", start="2026-04-02 12:00", previous={"status": "confirmed"}),
              dsl.event("status_changed", "2026-04-02 13:15", "a-2", status="completed", location="annex", start="2026-04-02 12:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([rule], events)) == [("2026-04-02 14:15", "review-request", "email", "a-2")]


def test_staff_recipients_need_no_consent(run: Any, dsl: Any) -> None:
    rule = {**REVIEW, "recipient": "staff", "channel": "sms"}
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", start="2026-04-02 12:00", previous={"status": "confirmed"})]
    records = run([rule], events)
    assert [(r["to"], r["channel"]) for r in records] == [("+48600000001", "sms")]


# ---------------------------------------------------------------- events of one visit taken out of order


def test_a_confirmation_taken_after_the_completion_does_not_drop_the_review_request(run: Any, dsl: Any) -> None:
    confirmed = dsl.event("status_changed", "2026-04-02 13:15:00.000", "a-1", status="confirmed", start="2026-04-02 12:00",
                          previous={"status": "pending"})
    completed = dsl.event("status_changed", "2026-04-02 13:15:00.001", "a-1", status="completed", start="2026-04-02 12:00",
                          previous={"status": "confirmed"})
    assert dsl.sent(run([REVIEW], [completed, confirmed])) == [("2026-04-02 14:15", "review-request", "email", "a-1")]


def test_a_completion_taken_after_a_later_change_that_kept_the_status_still_asks_for_a_review(run: Any, dsl: Any) -> None:
    completed = dsl.event("status_changed", "2026-04-02 13:15:00.000", "a-1", status="completed", start="2026-04-02 12:00",
                          previous={"status": "confirmed"})
    corrected = dsl.event("rescheduled", "2026-04-02 13:15:00.001", "a-1", status="completed", start="2026-04-02 11:30",
                          previous={"start": "2026-04-02 12:00"})
    assert dsl.sent(run([REVIEW], [corrected, completed])) == [("2026-04-02 14:15", "review-request", "email", "a-1")]


def test_a_completion_taken_after_the_visit_was_marked_no_show_plans_nothing(run: Any, dsl: Any) -> None:
    completed = dsl.event("status_changed", "2026-04-02 13:15:00.000", "a-1", status="completed", start="2026-04-02 12:00",
                          previous={"status": "confirmed"})
    no_show = dsl.event("status_changed", "2026-04-02 13:15:00.001", "a-1", status="no_show", start="2026-04-02 12:00",
                        previous={"status": "completed"})
    assert run([REVIEW], [no_show, completed], explain=True) == []


def test_on_status_of_an_appointment_rule_must_be_an_appointment_status(dsl: Any) -> None:
    import pytest

    from tidings.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        dsl.config({**REVIEW, "on_status": "complete"})
    [problem] = caught.value.problems
    assert problem.path == "rules[0] (review-request).on_status"
    assert "'complete' is not an appointment status; did you mean 'completed'?" in problem.message


def test_after_zero_sends_the_thank_you_the_moment_the_visit_is_completed(run: Any, dsl: Any) -> None:
    events = [dsl.event("status_changed", "2026-04-02 13:15", "a-1", status="completed", client="ivan",
                        start="2026-04-02 12:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([{**REVIEW, "after": "0h"}], events)) == [("2026-04-02 13:15", "review-request", "email", "a-1")]
