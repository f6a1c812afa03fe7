"""repeat-visit (PRODUCT §5): an invitation when a service is due again, held while the client has booked."""

from __future__ import annotations

from typing import Any

NAILS = {"id": "nails-repeat", "trigger": "repeat-visit", "services": ["manicure", "pedicure"], "after": "3w", "channel": "prefer_sms"}


def completed(dsl: Any, at: str, subject: str, start: str, **kw: Any) -> dict[str, Any]:
    return dsl.event("status_changed", at, subject, status="completed", start=start, previous={"status": "confirmed"}, **kw)


def test_a_completed_visit_is_followed_by_an_invitation_from_its_start(run: Any, dsl: Any) -> None:
    records = run([NAILS], [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00")])
    assert dsl.sent(records) == [("2026-04-23 11:00", "nails-repeat", "sms", "a-10")]


def test_months_are_thirty_calendar_days_in_the_location_zone(run: Any, dsl: Any) -> None:
    rule = {**NAILS, "after": "1mo"}
    records = run([rule], [completed(dsl, "2026-03-10 13:00", "a-10", "2026-03-10 12:00")])
    # 30 days later, across the spring change, still 12:00 local
    assert dsl.sent(records) == [("2026-04-09 12:00", "nails-repeat", "sms", "a-10")]


def test_a_visit_without_a_followed_service_starts_nothing(run: Any, dsl: Any) -> None:
    assert run([NAILS], [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00", services=["haircut"])]) == []


def test_a_newer_completed_visit_replaces_the_pending_invitation_and_counts_from_itself(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              completed(dsl, "2026-04-16 12:00", "a-11", "2026-04-16 11:00", services=["pedicure"])]
    assert dsl.sent(run([NAILS], events)) == [("2026-05-07 11:00", "nails-repeat", "sms", "a-11")]


def test_an_older_visit_marked_completed_late_does_not_replace_the_newer_cycle(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-16 12:00", "a-11", "2026-04-16 11:00"),
              completed(dsl, "2026-04-17 09:00", "a-10", "2026-04-02 11:00")]
    assert dsl.sent(run([NAILS], events)) == [("2026-05-07 11:00", "nails-repeat", "sms", "a-11")]


def test_visit_starts_are_compared_as_times_whatever_their_offsets(run: Any, dsl: Any) -> None:
    # a-11 starts at 10:00 UTC, written with +00:00; a-10 at 11:00 Warsaw (09:00 UTC): a-11 is the newer
    # visit, though its text sorts first
    newer = completed(dsl, "2026-04-16 14:00", "a-11", "2026-04-16 12:00")
    newer["subject"]["start"] = "2026-04-16T10:00:00+00:00"
    events = [newer, completed(dsl, "2026-04-17 09:00", "a-10", "2026-04-16 11:00")]
    assert dsl.sent(run([NAILS], events)) == [("2026-05-07 12:00", "nails-repeat", "sms", "a-11")]


def test_a_booking_in_the_same_category_suspends_the_invitation(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-12 09:00", "a-12", services=["nail-art"], start="2026-04-28 15:00")]
    records = run([NAILS], events, explain=True)
    assert dsl.sent(records) == []
    assert [r["reason"] for r in records if r.get("status") == "suspended"] == ["booked_a-12"]


def test_a_booking_in_another_category_does_not_suspend_it(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-10 09:00", "a-11", services=["haircut"], start="2026-04-20 15:00")]
    assert dsl.sent(run([NAILS], events)) == [("2026-04-23 11:00", "nails-repeat", "sms", "a-10")]


def test_a_booking_made_before_the_completion_that_starts_later_suspends_from_the_start(run: Any, dsl: Any) -> None:
    events = [dsl.event("created", "2026-03-20 09:00", "a-12", services=["pedicure"], start="2026-04-28 15:00"),
              completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00")]
    assert dsl.sent(run([NAILS], events)) == []


def test_a_cancelled_booking_restores_the_invitation_at_its_original_time(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-12 09:00", "a-12", services=["pedicure"], start="2026-04-28 15:00"),
              dsl.event("status_changed", "2026-04-15 09:00", "a-12", status="cancelled", services=["pedicure"],
                        start="2026-04-28 15:00", previous={"status": "confirmed"})]
    assert dsl.sent(run([NAILS], events)) == [("2026-04-23 11:00", "nails-repeat", "sms", "a-10")]


def test_a_booking_cancelled_after_the_original_time_restores_it_at_once(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-12 09:00", "a-12", services=["pedicure"], start="2026-04-28 15:00"),
              dsl.event("status_changed", "2026-04-25 08:00", "a-12", status="no_show", services=["pedicure"],
                        start="2026-04-28 15:00", previous={"status": "confirmed"})]
    records = run([NAILS], events, explain=True)
    assert dsl.sent(records) == [("2026-04-25 08:00", "nails-repeat", "sms", "a-10")]
    assert [r["status"] for r in records if r.get("status") in ("suspended", "restored")] == ["suspended", "restored"]


def test_the_rebooked_visit_completing_starts_a_new_cycle(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-06 11:30", "a-20", "2026-04-06 10:00", services=["pedicure"]),
              dsl.event("created", "2026-04-15 10:00", "a-21", start="2026-05-02 10:00"),
              completed(dsl, "2026-05-02 11:00", "a-21", "2026-05-02 10:00")]
    assert dsl.sent(run([NAILS], events)) == [("2026-05-23 10:00", "nails-repeat", "sms", "a-21")]


def test_one_invitation_per_visit_even_when_several_services_match(run: Any, dsl: Any) -> None:
    records = run([NAILS], [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00", services=["manicure", "pedicure"])])
    assert len(dsl.sent(records)) == 1


def test_one_pending_invitation_per_client_and_rule(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              completed(dsl, "2026-04-02 12:00", "a-30", "2026-04-02 11:00", client="ivan")]
    assert {(m[3]) for m in dsl.sent(run([NAILS], events))} == {"a-10", "a-30"}


def test_categories_follow_every_service_in_them(run: Any, dsl: Any) -> None:
    rule = {"id": "nails", "trigger": "repeat-visit", "categories": ["nails"], "after": "2w", "channel": "sms"}
    records = run([rule], [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00", services=["nail-art"])])
    assert dsl.sent(records) == [("2026-04-16 11:00", "nails", "sms", "a-10")]


def test_the_appointment_that_held_the_invitation_completing_drops_it(run: Any, dsl: Any, store: Any) -> None:
    # Given an invitation held by a booking in the same category with no service the rule follows
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-12 09:00", "a-12", services=["nail-art"], start="2026-04-20 15:00"),
              # When that visit is completed: the client came back
              completed(dsl, "2026-04-20 16:00", "a-12", "2026-04-20 15:00", services=["nail-art"])]
    records = run([NAILS], events, explain=True)
    # Then no invitation goes out, and none stays in the store
    assert dsl.sent(records) == []
    assert [(r["status"], r["reason"]) for r in records if r["status"] in ("suspended", "dropped")] == \
        [("suspended", "booked_a-12"), ("dropped", "came_back_a-12")]
    assert store.count_pending() == 0


def test_a_visit_completed_in_the_same_category_without_a_booking_drops_the_invitation(run: Any, dsl: Any, store: Any) -> None:
    # a walk-in, published once it is done
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-15 12:00", "a-13", status="completed", services=["nail-art"], start="2026-04-15 11:00")]
    assert dsl.sent(run([NAILS], events)) == []
    assert store.count_pending() == 0


def test_a_completed_visit_in_another_category_keeps_the_invitation(run: Any, dsl: Any) -> None:
    events = [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00"),
              dsl.event("created", "2026-04-15 12:00", "a-13", status="completed", services=["haircut"], start="2026-04-15 11:00")]
    assert dsl.sent(run([NAILS], events)) == [("2026-04-23 11:00", "nails-repeat", "sms", "a-10")]


def test_an_older_visit_completed_after_the_client_came_back_starts_no_invitation(run: Any, dsl: Any, store: Any) -> None:
    events = [dsl.event("created", "2026-04-20 16:00", "a-12", status="completed", services=["nail-art"], start="2026-04-20 15:00"),
              completed(dsl, "2026-04-21 09:00", "a-10", "2026-04-02 11:00")]
    assert dsl.sent(run([NAILS], events)) == []
    assert store.count_pending() == 0


def test_the_invitation_names_only_the_services_the_rule_follows(run: Any, dsl: Any) -> None:
    records = run([NAILS], [completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00", services=["haircut", "manicure"])])
    [message] = records
    assert "Manicure" in message["text"] and "Haircut" not in message["text"]


def test_one_invitation_per_visit_naming_each_followed_service_once(run: Any, dsl: Any) -> None:
    visit = completed(dsl, "2026-04-02 12:00", "a-10", "2026-04-02 11:00",
                      services=["manicure", "haircut", "pedicure", "manicure"])
    records = run([NAILS], [visit])
    [message] = records
    assert "(Manicure, Pedicure)" in message["text"]


# ---------------------------------------------------------------- events of one visit taken out of order


def test_a_completion_taken_after_the_visit_was_marked_no_show_starts_no_invitation(run: Any, dsl: Any, store: Any) -> None:
    done = completed(dsl, "2026-04-02 12:00:00.000", "a-10", "2026-04-02 11:00")
    no_show = dsl.event("status_changed", "2026-04-02 12:00:00.001", "a-10", status="no_show", start="2026-04-02 11:00",
                        previous={"status": "completed"})
    assert dsl.sent(run([NAILS], [no_show, done])) == []
    assert store.count_pending() == 0


def test_a_completion_taken_after_a_later_correction_counts_from_the_corrected_visit(run: Any, dsl: Any) -> None:
    done = completed(dsl, "2026-04-02 12:00:00.000", "a-10", "2026-04-02 11:00")
    corrected = dsl.event("rescheduled", "2026-04-02 12:00:00.001", "a-10", status="completed", start="2026-04-02 10:00",
                          previous={"start": "2026-04-02 11:00"})
    assert dsl.sent(run([NAILS], [corrected, done])) == [("2026-04-23 10:00", "nails-repeat", "sms", "a-10")]


def test_an_invitation_zero_days_after_the_visit_is_refused_naming_the_key(dsl: Any) -> None:
    import pytest

    from tidings.errors import ConfigError
    with pytest.raises(ConfigError) as caught:
        dsl.config({**NAILS, "after": "0d"})
    assert [str(p) for p in caught.value.problems] == [
        "rules[0] (nails-repeat).after: '0d' is zero: an invitation to come back is due some time after the visit, "
        "not at the visit itself; use a positive duration"]
