"""One suite for every schedule store backend, plus what only a shared Redis store can show (concurrency)."""

from __future__ import annotations

import inspect
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from tidings.clock import VirtualClock
from tidings.store.dispatching import Finish, begin, finish
from tidings.store.entries import Dropped, Ignored, LogEntry, Outcome, Planned, Sent, entry_json
from tidings.store.plan import PlanOp
from tidings.store.records import EventRef, PendingMessage
from tidings.store import ScheduleStore, open_store
from tidings.pipeline.keys import idempotency_key
from tidings.store.memory import MemoryStore
from tidings.store.redis import KEEP_SECONDS, RedisStore

WARSAW = ZoneInfo("Europe/Warsaw")
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
LEASE = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def payload(**changes: Any) -> PendingMessage:
    message = PendingMessage(rule="reminder-24h", subject="v-1", kind="appointment", location=None, recipient="client",
                             due=T0, planned=T0, key="k-1", suspended=False, info={}, services=None,
                             event=EventRef(id="evt-1", type="appointment.created", occurred_at=T0), previous=None)
    return attrs.evolve(message, **changes)


def entry(n: int, subject: str, client: str | None, status: str = "scheduled") -> LogEntry:
    return Planned(rule="r", subject=subject, client=client, event=f"evt-{n}", at=at(n), status=status, reason=status)


def visit(subject_id: str, *, client: str | None = "c-ola", status: str = "confirmed") -> dict[str, Any]:
    return {"id": subject_id, "status": status, "client": {"id": client, "name": "Ola"} if client else None}


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[ScheduleStore]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        memory.close()
    else:
        yield request.getfixturevalue("redis_store")


# ---------------------------------------------------------------- pending messages


def test_scheduling_a_slot_again_replaces_it_and_bumps_its_version(store: ScheduleStore) -> None:
    first = store.schedule("r|v-1|client", send_at=at(60), message=payload(due=at(60)))
    second = store.schedule("r|v-1|client", send_at=at(90), message=payload(due=at(90)))

    assert second == first + 1
    assert store.count_pending() == 1
    found = store.pending("r|v-1|client")
    assert found is not None
    assert (found.due, found.version, found.slot) == (at(90), second, "r|v-1|client")
    assert store.next_due() == at(90)


def test_a_pending_message_comes_back_with_its_slot_version_and_send_time_in_utc(store: ScheduleStore) -> None:
    version = store.schedule("s", send_at=datetime(2026, 3, 10, 14, 0, tzinfo=WARSAW),
                             message=payload(info={"services": ["manicure"]}, slot="ignored", version=99))

    found = store.pending("s")
    assert found == payload(info={"services": ["manicure"]}, slot="s", version=version,
                            send_at=datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc))
    assert found is not None and found.send_at is not None and found.send_at.isoformat() == "2026-03-10T13:00:00+00:00"
    assert store.pending("nothing-here") is None


def test_dropping_a_slot_removes_it_and_returns_what_was_pending(store: ScheduleStore) -> None:
    version = store.schedule("s", send_at=at(0), message=payload())

    dropped = store.drop("s")

    assert dropped is not None and (dropped.slot, dropped.version, dropped.key) == ("s", version, "k-1")
    assert store.pending("s") is None
    assert store.count_pending() == 0
    assert store.claim_due(at(60), limit=10, lease=LEASE) == []
    assert store.next_due() is None
    assert store.drop("s") is None


def test_a_suspended_message_is_kept_but_never_claimed(store: ScheduleStore) -> None:
    store.schedule("s", send_at=at(10), message=payload())

    store.schedule("s", send_at=None, message=payload(suspended=True))

    found = store.pending("s")
    assert found is not None and found.send_at is None and found.suspended is True
    assert store.count_pending() == 1
    assert store.next_due() is None
    assert store.claim_due(at(60 * 24 * 365), limit=10, lease=LEASE) == []


def test_a_restored_message_is_claimed_at_its_new_time(store: ScheduleStore) -> None:
    store.schedule("s", send_at=None, message=payload(suspended=True))

    version = store.schedule("s", send_at=at(30), message=payload())

    assert store.next_due() == at(30)
    assert store.claim_due(at(29), limit=10, lease=LEASE) == []
    assert store.claim_due(at(30), limit=10, lease=LEASE) == [("s", version + 1)]   # a claim bumps the version


def test_claim_due_returns_only_due_messages_earliest_first(store: ScheduleStore) -> None:
    versions = {slot: store.schedule(slot, send_at=at(minutes), message=payload())
                for slot, minutes in [("c", 3), ("a", 1), ("later", 10), ("b", 2)]}

    claimed = store.claim_due(at(5), limit=10, lease=LEASE)

    assert claimed == [("a", versions["a"] + 1), ("b", versions["b"] + 1), ("c", versions["c"] + 1)]


def test_claim_due_takes_no_more_than_its_limit_and_leaves_the_rest_due(store: ScheduleStore) -> None:
    for minute in range(5):
        store.schedule(f"s{minute}", send_at=at(minute), message=payload())

    first = store.claim_due(at(10), limit=2, lease=LEASE)
    rest = store.claim_due(at(10), limit=10, lease=LEASE)

    assert [slot for slot, _ in first] == ["s0", "s1"]
    assert [slot for slot, _ in rest] == ["s2", "s3", "s4"]
    assert store.claim_due(at(10), limit=0, lease=LEASE) == []


def test_a_claimed_message_is_claimed_again_only_after_its_lease_runs_out(store: ScheduleStore) -> None:
    version = store.schedule("s", send_at=at(0), message=payload())
    assert store.claim_due(at(1), limit=10, lease=LEASE) == [("s", version + 1)]

    assert store.claim_due(at(1), limit=10, lease=LEASE) == []
    assert store.next_due() == at(1) + LEASE
    assert store.claim_due(at(1) + LEASE - timedelta(seconds=1), limit=10, lease=LEASE) == []
    # claimed again, at a version of its own: a dispatch of the first claim is stale now
    assert store.claim_due(at(1) + LEASE, limit=10, lease=LEASE) == [("s", version + 2)]
    assert store.complete("s", version + 1) is False
    assert store.complete("s", version + 2) is True


def test_a_stale_version_does_not_complete_a_rescheduled_message(store: ScheduleStore) -> None:
    # Given a message claimed at version 1, then moved by a reschedule
    old = store.schedule("s", send_at=at(0), message=payload())
    store.claim_due(at(0), limit=10, lease=LEASE)
    new = store.schedule("s", send_at=at(60), message=payload(due=at(60)))
    # When the dispatch of the old version completes
    completed = store.complete("s", old)
    # Then the rescheduled message is still pending at its new time
    assert completed is False
    assert store.pending("s") is not None
    assert store.next_due() == at(60)
    assert store.claim_due(at(60), limit=10, lease=LEASE) == [("s", new + 1)]


def test_completing_the_current_version_removes_the_message(store: ScheduleStore) -> None:
    store.schedule("s", send_at=at(0), message=payload())
    [(_, version)] = store.claim_due(at(0), limit=10, lease=LEASE)

    assert store.complete("s", version) is True

    assert store.pending("s") is None
    assert store.count_pending() == 0
    assert store.next_due() is None
    assert store.claim_due(at(0) + 2 * LEASE, limit=10, lease=LEASE) == []
    assert store.complete("s", version) is False


def test_a_slot_scheduled_again_after_a_drop_gets_a_version_an_old_dispatch_cannot_complete(store: ScheduleStore) -> None:
    old = store.schedule("s", send_at=at(0), message=payload())
    store.drop("s")

    new = store.schedule("s", send_at=at(0), message=payload())

    assert new > old
    assert store.complete("s", old) is False
    assert store.pending("s") is not None


def test_next_due_is_the_earliest_due_time_or_none(store: ScheduleStore) -> None:
    assert store.next_due() is None
    store.schedule("late", send_at=at(30), message=payload())
    store.schedule("early", send_at=datetime(2026, 3, 10, 13, 10, tzinfo=WARSAW), message=payload())

    assert store.next_due() == at(10)
    assert store.next_due().tzinfo is not None  # type: ignore[union-attr]


# ---------------------------------------------------------------- events and subjects


def test_a_seen_event_is_remembered(store: ScheduleStore) -> None:
    store.add_event("evt-1")

    assert store.has_event("evt-1") is True
    assert store.has_event("evt-2") is False


def test_a_subject_snapshot_is_replaced_by_a_newer_event_but_not_by_an_older_one(store: ScheduleStore) -> None:
    assert store.put_subject("visit", visit("v-1", status="confirmed"), occurred_at=at(10)) is True

    assert store.put_subject("visit", visit("v-1", status="booked"), occurred_at=at(5)) is False
    assert store.subject("v-1") == {"kind": "visit", "occurred_at": at(10).timestamp(),
                                    "subject": visit("v-1", status="confirmed")}

    assert store.put_subject("visit", visit("v-1", status="cancelled"), occurred_at=at(10)) is True
    assert store.put_subject("visit", visit("v-1", status="done"), occurred_at=at(11).astimezone(WARSAW)) is True
    found = store.subject("v-1")
    assert found is not None and found["subject"]["status"] == "done"
    assert store.subject("v-unknown") is None


def test_at_the_same_moment_the_later_order_wins_whichever_is_stored_first(store: ScheduleStore) -> None:
    assert store.put_subject("visit", visit("v-1", status="moved"), occurred_at=at(10), order="1:evt-2") is True
    assert store.put_subject("visit", visit("v-1", status="booked"), occurred_at=at(10), order="0:evt-1") is False
    found = store.subject("v-1")
    assert found is not None and found["subject"]["status"] == "moved" and found["order"] == "1:evt-2"
    # the same event again (a retry) replaces its own snapshot
    assert store.put_subject("visit", visit("v-1", status="moved"), occurred_at=at(10), order="1:evt-2") is True
    assert store.put_subject("visit", visit("v-1", status="later"), occurred_at=at(10), order="1:evt-3") is True


def test_orders_compare_by_code_point_not_by_locale(store: ScheduleStore) -> None:
    # "é" (U+00E9) sorts after "z" by code point, though before it in most locales' collation
    assert store.put_subject("visit", visit("v-1", status="accented"), occurred_at=at(10), order="1:é") is True
    assert store.put_subject("visit", visit("v-1", status="plain"), occurred_at=at(10), order="1:z") is False
    assert store.put_subject("visit", visit("v-2", status="short"), occurred_at=at(10), order="1:evt-1") is True
    assert store.put_subject("visit", visit("v-2", status="longer"), occurred_at=at(10), order="1:evt-10") is True


def booked(subject_id: str, start: str, *services: tuple[str, str | None], client: str | None = "c-ola",
           status: str = "confirmed") -> dict[str, Any]:
    return {**visit(subject_id, client=client, status=status), "start": start,
            "services": [{"id": i, "name": i, "category": c} for i, c in services]}


def test_client_bookings_are_found_by_client_category_and_start_through_the_index(store: ScheduleStore) -> None:
    nails, hair, own = ("manicure", "nails"), ("haircut", "hair"), ("massage", None)
    store.put_subject("appointment", booked("v-1", "2026-03-01T10:00:00+01:00", nails), occurred_at=at(0))
    store.put_subject("appointment", booked("v-2", "2026-03-20T10:00:00+01:00", nails, hair), occurred_at=at(0))
    store.put_subject("appointment", booked("v-3", "2026-03-25T10:00:00+01:00", own), occurred_at=at(0))
    store.put_subject("appointment", booked("v-4", "2026-03-26T10:00:00+01:00", nails, status="cancelled"), occurred_at=at(0))
    store.put_subject("appointment", booked("v-5", "2026-03-27T10:00:00+01:00", nails, client="c-ivan"), occurred_at=at(0))
    store.put_subject("appointment", booked("v-6", "2026-03-28T10:00:00+01:00", nails, status="completed"), occurred_at=at(0))

    def ids(categories: list[str], after: str, client: str = "c-ola") -> list[str]:
        return [s["subject"]["id"] for s in
                store.client_bookings(client, categories=categories, after=datetime.fromisoformat(after))]

    # after a moment (strictly), in any of the categories, closed ones left out, by id
    assert ids(["nails"], "2026-03-01T10:00:00+01:00") == ["v-2", "v-6"]
    assert ids(["nails", "service:massage"], "2026-02-01T00:00:00+00:00") == ["v-1", "v-2", "v-3", "v-6"]
    assert ids(["hair"], "2026-03-20T09:59:00+00:00") == []
    assert ids(["nails"], "2026-01-01T00:00:00+00:00", client="c-ivan") == ["v-5"]
    # a booking that changes follows: moved to another category, cancelled, moved to another client
    store.put_subject("appointment", booked("v-2", "2026-03-20T10:00:00+01:00", hair), occurred_at=at(1))
    store.put_subject("appointment", booked("v-6", "2026-03-28T10:00:00+01:00", nails, status="no_show"), occurred_at=at(1))
    store.put_subject("appointment", booked("v-1", "2026-03-01T10:00:00+01:00", nails, client="c-ivan"), occurred_at=at(1))
    assert ids(["nails"], "2026-01-01T00:00:00+00:00") == []
    assert ids(["hair"], "2026-01-01T00:00:00+00:00") == ["v-2"]
    assert ids(["nails"], "2026-01-01T00:00:00+00:00", client="c-ivan") == ["v-1", "v-5"]
    # an older event arriving late changes nothing; an erased client leaves no index behind
    store.put_subject("appointment", booked("v-2", "2026-03-20T10:00:00+01:00", nails), occurred_at=at(0))
    assert ids(["nails"], "2026-01-01T00:00:00+00:00") == []
    store.forget_client("c-ivan")
    assert ids(["nails"], "2026-01-01T00:00:00+00:00", client="c-ivan") == []
    assert store.client_bookings("c-ola", categories=[], after=T0) == []


def test_client_subjects_lists_the_client_snapshots_sorted_by_id(store: ScheduleStore) -> None:
    store.put_subject("visit", visit("v-2"), occurred_at=at(0))
    store.put_subject("order", visit("o-1"), occurred_at=at(0))
    store.put_subject("visit", visit("v-3", client="c-ivan"), occurred_at=at(0))
    store.put_subject("visit", visit("v-4", client=None), occurred_at=at(0))

    assert [(s["kind"], s["subject"]["id"]) for s in store.client_subjects("c-ola")] == [("order", "o-1"), ("visit", "v-2")]
    assert [s["subject"]["id"] for s in store.client_subjects("c-ivan")] == ["v-3"]
    assert store.client_subjects("c-nobody") == []


# ---------------------------------------------------------------- exactly once


def test_a_key_is_marked_sent_only_once(store: ScheduleStore) -> None:
    assert store.was_sent("k-1") is False

    assert store.mark_sent("k-1") is True
    assert store.mark_sent("k-1") is False
    assert store.was_sent("k-1") is True
    assert store.was_sent("k-2") is False


def test_an_attempt_is_marked_once_so_a_second_attempt_knows_of_the_first(store: ScheduleStore) -> None:
    assert store.mark_attempt("k-1|sms") is True
    assert store.mark_attempt("k-1|sms") is False
    assert store.mark_attempt("k-1|email") is True
    assert store.was_sent("k-1|sms") is False     # an attempt is not a delivery


def test_a_gone_address_is_remembered_by_its_key_and_others_are_not(store: ScheduleStore) -> None:
    assert store.gone({"push:a", "push:b"}) == set()

    store.mark_gone("push:a")
    store.mark_gone("push:a")   # again: still one address

    assert store.gone({"push:a", "push:b"}) == {"push:a"}
    assert store.gone([]) == set()


def test_a_lock_is_held_until_released(store: ScheduleStore) -> None:
    assert store.acquire("sending:k-1", ttl=LEASE) is True
    assert store.acquire("sending:k-1", ttl=LEASE) is False
    assert store.acquire("sending:k-2", ttl=LEASE) is True

    store.release("sending:k-1")

    assert store.acquire("sending:k-1", ttl=LEASE) is True


def test_a_lock_lapses_after_its_ttl(store: ScheduleStore) -> None:
    assert store.acquire("sending:k-1", ttl=timedelta(milliseconds=50)) is True
    assert store.acquire("sending:k-1", ttl=LEASE) is False

    # a bounded wait for the expiry, not a sleep that hopes: it fails if the lock never lapses
    deadline = time.monotonic() + 3
    while not store.acquire("sending:k-1", ttl=LEASE):
        assert time.monotonic() < deadline, "the lock outlived its ttl"
        time.sleep(0.01)


# ---------------------------------------------------------------- the delivery log


def test_the_log_is_read_by_subject_by_client_or_whole_in_recording_order(store: ScheduleStore) -> None:
    sent = Sent(rule="r", subject="v-1", event="evt-3", at=at(3), key="k-1", client="c-ola", channel="sms",
                to="+48600100200", title=None, text="See you", provider_id="p-1", info={"segments": 1})
    entries = [entry(1, "v-1", "c-ola"), entry(2, "v-2", "c-ivan"), sent, entry(4, "v-3", "c-ola", "skipped"),
               entry(5, "v-4", None, "skipped")]
    for one in entries:
        store.record(one)

    def numbers(found: list[dict[str, Any]]) -> list[int]:
        return [int(e["event"].removeprefix("evt-")) for e in found]

    assert numbers(store.log(subject="v-1")) == [1, 3]
    assert store.log(subject="v-1")[1] == entry_json(sent) == {
        "rule": "r", "subject": "v-1", "event": "evt-3", "at": "2026-03-10T12:03:00Z", "key": "k-1", "client": "c-ola",
        "status": "sent", "channel": "sms", "to": "+48600100200", "title": None, "text": "See you", "provider_id": "p-1",
        "info": {"segments": 1}}
    assert numbers(store.log(client="c-ola")) == [1, 3, 4]
    assert numbers(store.log(subject="v-3", client="c-ola")) == [4]
    assert store.log(subject="v-3", client="c-ivan") == []
    assert numbers(store.log()) == [1, 2, 3, 4, 5]
    assert store.log(subject="v-nothing") == []


# ---------------------------------------------------------------- retention and erasure


def test_history_expires_after_the_retention_by_the_store_clock_but_not_what_is_pending(store: ScheduleStore) -> None:
    # Given a store on a virtual clock keeping 90 days, with one quiet subject and one with a reminder pending
    clock = VirtualClock(T0)
    store.set_retention(timedelta(days=90), clock=clock)
    store.put_subject("visit", visit("v-1"), occurred_at=T0)
    store.put_subject("visit", visit("v-2"), occurred_at=T0)
    version = store.schedule("r|v-2|client", send_at=T0 + timedelta(days=120), message=payload(subject="v-2"))
    store.add_event("evt-1")
    store.mark_sent("k-1")
    store.mark_attempt("k-1|sms")
    store.record(entry(1, "v-1", "c-ola"))

    # When 89 days pass, everything is still there
    clock.set(T0 + timedelta(days=89))
    store.expire()
    assert (store.has_event("evt-1"), store.was_sent("k-1"), len(store.log(client="c-ola"))) == (True, True, 1)
    assert [s["subject"]["id"] for s in store.client_subjects("c-ola")] == ["v-1", "v-2"]

    # When 91 days have passed: the history went, the subject with a message pending stayed
    clock.set(T0 + timedelta(days=91))
    store.expire()
    assert (store.has_event("evt-1"), store.was_sent("k-1"), store.log(), store.log(client="c-ola")) == (False, False, [], [])
    assert store.mark_attempt("k-1|sms") is True     # the attempt mark went too
    assert store.subject("v-1") is None
    assert [s["subject"]["id"] for s in store.client_subjects("c-ola")] == ["v-2"]
    assert store.pending("r|v-2|client") is not None

    # When its reminder is sent at day 120, its snapshot is kept for 90 days after that, then goes
    clock.set(T0 + timedelta(days=120))
    assert store.complete("r|v-2|client", version) is True
    clock.set(T0 + timedelta(days=209))
    store.expire()
    assert store.subject("v-2") is not None
    clock.set(T0 + timedelta(days=211))
    store.add_event("evt-2")   # ingesting an event sweeps too
    assert (store.subject("v-2"), store.client_subjects("c-ola")) == (None, [])
    assert store.has_event("evt-2") is True


def test_a_booking_leaves_the_index_of_bookings_with_its_expired_snapshot(store: ScheduleStore) -> None:
    clock = VirtualClock(T0)
    store.set_retention(timedelta(days=90), clock=clock)
    store.put_subject("appointment", booked("v-1", "2026-03-20T10:00:00+01:00", ("manicure", "nails")), occurred_at=T0)
    after = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert len(store.client_bookings("c-ola", categories=["nails"], after=after)) == 1
    clock.set(T0 + timedelta(days=91))
    store.expire()
    assert store.client_bookings("c-ola", categories=["nails"], after=after) == []


def test_forgetting_a_client_erases_its_snapshots_pending_messages_and_log_entries(store: ScheduleStore) -> None:
    # Given two clients, each with a visit, a pending reminder and log entries, and a repeat-visit slot of Ola's
    store.put_subject("visit", visit("v-1"), occurred_at=T0)
    store.put_subject("visit", visit("v-2", client="c-ivan"), occurred_at=T0)
    store.schedule("r|subject:v-1|client", send_at=at(60), message=payload(subject="v-1"))
    store.schedule("repeat|client:c-ola|client", send_at=at(90), message=payload(subject="v-1"))
    store.schedule("r|subject:v-2|client", send_at=at(60), message=payload(subject="v-2"))
    for n, (subject, client) in enumerate([("v-1", "c-ola"), ("v-2", "c-ivan"), ("v-1", "c-ola")]):
        store.record(entry(n, subject, client))

    # When Ola is forgotten
    removed = store.forget_client("c-ola")

    # Then nothing of her is left, and Ivan keeps all of his
    assert removed == {"subjects": 1, "pending": 2, "log": 2}
    assert (store.subject("v-1"), store.client_subjects("c-ola"), store.log(client="c-ola"), store.log(subject="v-1")) == \
        (None, [], [], [])
    assert store.pending("r|subject:v-1|client") is None and store.pending("repeat|client:c-ola|client") is None
    assert store.count_pending() == 1 and store.pending("r|subject:v-2|client") is not None
    assert [e["subject"] for e in store.log()] == ["v-2"]
    assert store.forget_client("c-ola") == {"subjects": 0, "pending": 0, "log": 0}


# ---------------------------------------------------------------- one round trip per plan and per outcome


def test_an_ingest_plan_reads_under_its_lock_and_writes_every_op_in_order(store: ScheduleStore) -> None:
    # Given a visit with one reminder pending
    store.put_subject("visit", visit("v-1"), occurred_at=at(0))
    store.schedule("a", send_at=at(60), message=payload(subject="v-1"))
    # When a plan begins, it holds the client's lock and has read the subject, the slots and the client's subjects
    state = store.begin_plan("ingest:client:c-ola", ttl=LEASE, event_id="evt-2", subject_id="v-1", slots=["a", "b"],
                             client_id="c-ola")
    assert state is not None and state.seen is False and state.subject_id == "v-1"
    assert state.snapshot is not None and state.snapshot["subject"] == visit("v-1")
    assert state.pending["a"] is not None and state.pending["a"].due == T0 and state.pending["b"] is None
    assert state.client_subjects is None   # the client's subjects are asked of the index of bookings, when needed
    assert store.begin_plan("ingest:client:c-ola", ttl=LEASE, event_id="evt-3", subject_id="v-1", slots=[],
                            client_id="c-ola") is None   # another worker waits for the lock
    # When its ops are applied
    assert store.apply_plan([PlanOp("unsent", ("k-2",)),PlanOp("put_subject", ("visit", visit("v-1", status="done"), at(5), "1:evt-2")),
                      PlanOp("schedule", ("b", at(30), payload(subject="v-1", key="k-2"))), PlanOp("drop", ("a",)),
                      PlanOp("record", (entry(2, "v-1", "c-ola"),)), PlanOp("add_event", ("evt-2",)),
                      PlanOp("release", ("ingest:client:c-ola",))]) == set()
    # Then each is written, and the lock is free again
    found = store.subject("v-1")
    assert found is not None and found["subject"]["status"] == "done" and found["order"] == "1:evt-2"
    assert store.pending("a") is None
    b = store.pending("b")
    assert b is not None and (b.key, b.send_at) == ("k-2", at(30))
    assert [e["event"] for e in store.log(client="c-ola")] == ["evt-2"]
    assert store.has_event("evt-2") is True
    again = store.begin_plan("ingest:client:c-ola", ttl=LEASE, event_id="evt-2", subject_id="v-1", slots=[], client_id=None)
    assert again is not None and again.seen is True and again.client_subjects is None


def test_a_plan_that_assumed_a_sent_key_unsent_writes_nothing_but_the_release_of_its_lock(store: ScheduleStore) -> None:
    store.mark_sent("k-1")
    assert store.begin_plan("ingest:subject:v-1", ttl=LEASE, event_id="evt-1", subject_id="v-1", slots=[],
                            client_id=None) is not None

    found = store.apply_plan([PlanOp("unsent", ("k-0",)), PlanOp("unsent", ("k-1",)),
                              PlanOp("schedule", ("s", at(30), payload())), PlanOp("add_event", ("evt-1",)),
                              PlanOp("release", ("ingest:subject:v-1",))])

    assert found == {"k-1"}
    assert (store.pending("s"), store.has_event("evt-1")) == (None, False)
    assert store.acquire("ingest:subject:v-1", ttl=LEASE) is True


def test_a_dispatch_outcome_marks_sent_records_completes_and_releases_at_once(store: ScheduleStore) -> None:
    store.schedule("s", send_at=at(0), message=payload())
    [(_, version)] = store.claim_due(at(0), limit=10, lease=LEASE)
    assert store.acquire("sending:k-1", ttl=LEASE) is True
    sent = Sent(rule="r", subject="v-1", event="evt-1", at=at(1), key="k-1", client="c-ola", channel="sms",
                to="+48600100200", title=None, text="See you", provider_id="p-1", info={})

    assert store.finish_dispatch("s", version, sent="k-1", entries=[sent], release="sending:k-1") is True

    assert store.pending("s") is None and store.count_pending() == 0
    assert store.was_sent("k-1") is True
    assert store.log(subject="v-1") == [entry_json(sent)]
    assert store.acquire("sending:k-1", ttl=LEASE) is True
    # a stale version completes nothing, and still records
    assert store.finish_dispatch("s", version, entries=[entry(2, "v-1", "c-ola", "skipped")]) is False
    assert len(store.log(subject="v-1")) == 2


def test_a_batch_of_dispatches_is_read_with_its_locks_and_finished_at_once(store: ScheduleStore) -> None:
    # the same through RedisStore's two scripts and through any store's single calls
    for n in range(5):
        store.schedule(f"s{n}", send_at=at(0), message=payload(key=f"k-{n}", subject=f"v-{n}"))
    store.apply_plan([PlanOp("put_subject", ("appointment", visit("v-0"), T0, ""))])   # as the pipeline writes it
    claims = dict(store.claim_due(at(0), limit=10, lease=LEASE))
    store.schedule("s1", send_at=at(0), message=payload(key="k-1", subject="v-1"))   # s1's claim is stale now
    store.schedule("s2", send_at=None, message=payload(key="k-2", subject="v-2", suspended=True))
    store.mark_sent("k-3")
    assert store.acquire("sending:k-4", ttl=LEASE) is True   # another worker is sending k-4
    store.refuse("k-0", channel="sms", address="+48600100200")

    found = begin(store, [(f"s{n}", claims[f"s{n}"]) for n in range(5)], lock_ttl=LEASE)

    assert [(c.slot, c.version) for c in found] == [(f"s{n}", claims[f"s{n}"]) for n in range(5)]
    first = found[0]
    assert first.pending is not None and (first.pending.key, first.pending.version) == ("k-0", claims["s0"])
    assert first.snapshot is not None and first.snapshot == store.subject("v-0")
    assert first.snapshot["subject"]["id"] == "v-0" and first.snapshot["subject"]["status"] == "confirmed"
    assert (first.locked, dict(first.refused)) == (True, {"sms": "+48600100200"})
    assert [c.pending for c in found[1:4]] == [None, None, None]   # stale, suspended, sent
    assert store.pending("s3") is None                             # the sent one completed
    last = found[4]
    assert last.pending is not None and (last.snapshot, last.locked, dict(last.refused)) == (None, False, {})
    assert store.acquire("sending:k-0", ttl=LEASE) is False         # taken by begin

    sent = Sent(rule="r", subject="v-0", event="evt-1", at=at(1), key="k-0", client="c-ola", channel="sms",
                to="+48600100200", title=None, text="See you", provider_id="p-1", info={})
    done = finish(store, [Finish("s0", claims["s0"], [sent], sent="k-0", complete=True, release="sending:k-0"),
                          Finish("s4", claims["s4"], [entry(2, "v-4", None, "retried")], release="sending:k-4",
                                 hold_until=at(30)),
                          Finish("s1", claims["s1"], complete=True)])

    assert done == [True, False, False]
    assert store.pending("s0") is None and store.was_sent("k-0") is True
    assert store.log(subject="v-0") == [entry_json(sent)] and len(store.log(subject="v-4")) == 1
    assert store.acquire("sending:k-0", ttl=LEASE) is True and store.acquire("sending:k-4", ttl=LEASE) is True
    assert store.pending("s1") is not None                          # a stale claim completes nothing
    assert [slot for slot, _ in store.claim_due(at(10), limit=10, lease=LEASE)] == ["s1"]   # s4 held for its retry
    assert "s4" in [slot for slot, _ in store.claim_due(at(31), limit=10, lease=LEASE)]


# ---------------------------------------------------------------- Redis only


def test_reading_a_batch_of_dispatches_marks_the_first_attempt_of_each_message_it_locked(redis_store: RedisStore) -> None:
    for n in range(4):
        redis_store.schedule(f"s{n}", send_at=at(0), message=payload(key=f"k-{n}", rule="reminder-24h" if n else "other"))
    claims = sorted(redis_store.claim_due(at(0), limit=10, lease=LEASE))
    assert redis_store.mark_attempt("k-1|sms") is True              # attempted by a worker that died
    assert redis_store.acquire("sending:k-2", ttl=LEASE) is True    # being sent by another worker

    found = redis_store.begin_dispatch(claims, lock_ttl=LEASE, attempt={"reminder-24h": "sms"})

    assert [dict(c.attempted) for c in found] == [{}, {"k-1|sms": False}, {}, {"k-3|sms": True}]
    assert redis_store.mark_attempt("k-3|sms") is False
    assert redis_store.mark_attempt("k-0|sms") is True               # its rule has no channel to look up
    assert redis_store.mark_attempt("k-2|sms") is True               # not locked: not marked


def test_concurrent_schedulers_claim_every_due_message_exactly_once(redis_store: RedisStore, redis_url: str) -> None:
    # Given 500 due messages and four schedulers, each with its own connection
    expected = {(f"s{i:03}", redis_store.schedule(f"s{i:03}", send_at=at(i % 7), message=payload())) for i in range(500)}
    schedulers = [RedisStore.from_url(redis_url, prefix=redis_store.prefix) for _ in range(4)]
    claims: list[list[tuple[str, int]]] = [[] for _ in schedulers]
    start = threading.Barrier(len(schedulers))

    def run(index: int) -> None:
        start.wait()
        while batch := schedulers[index].claim_due(at(10), limit=7, lease=LEASE):
            claims[index].extend(batch)

    # When they all claim at once
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(schedulers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for scheduler in schedulers:
        scheduler.close()

    # Then no slot was claimed twice and together they claimed all of them, each at the version after its own
    everything = [claim for batch in claims for claim in batch]
    assert not any(thread.is_alive() for thread in threads)
    assert len(everything) == len({slot for slot, _ in everything}) == 500
    assert set(everything) == {(slot, version + 1) for slot, version in expected}
    assert sum(1 for batch in claims if batch) > 1, "one scheduler took everything: the test did not run concurrently"


def test_a_message_claimed_by_a_scheduler_killed_before_enqueuing_is_claimed_again_after_the_lease(
        redis_store: RedisStore, redis_url: str) -> None:
    # Given a scheduler that claims a due message and dies before enqueuing it
    version = redis_store.schedule("s", send_at=at(0), message=payload())
    doomed = RedisStore.from_url(redis_url, prefix=redis_store.prefix)
    assert doomed.claim_due(at(0), limit=10, lease=LEASE) == [("s", version + 1)]
    doomed.close()
    survivor = redis_store
    # When another scheduler polls before and after the lease runs out
    before = survivor.claim_due(at(0) + LEASE - timedelta(seconds=1), limit=10, lease=LEASE)
    after = survivor.claim_due(at(0) + LEASE, limit=10, lease=LEASE)
    # Then the message was lost only for the length of the lease
    assert before == []
    assert after == [("s", version + 2)]
    assert survivor.complete("s", version + 2) is True


def test_gone_addresses_are_kept_for_more_than_a_year(redis_store: RedisStore) -> None:
    redis_store.mark_gone("push:abc")

    assert KEEP_SECONDS - 60 < redis_store.client.ttl(f"{redis_store.prefix}gone:push:abc") <= KEEP_SECONDS  # type: ignore[operator]
    assert KEEP_SECONDS > 366 * 24 * 3600


def test_every_key_lives_under_the_store_prefix(redis_store: RedisStore, redis_url: str) -> None:
    # Given a store that used every kind of key
    redis_store.schedule("s", send_at=at(0), message=payload())
    redis_store.put_subject("visit", visit("v-1"), occurred_at=at(0))
    redis_store.add_event("evt-1")
    redis_store.mark_sent("k-1")
    redis_store.acquire("sending:k-1", ttl=LEASE)
    redis_store.record(entry(1, "v-1", "c-ola"))
    # Then another prefix on the same database sees none of it
    other = RedisStore.from_url(redis_url, prefix=f"{redis_store.prefix}other:")
    try:
        assert (other.count_pending(), other.next_due(), other.subject("v-1"), other.has_event("evt-1"),
                other.was_sent("k-1"), other.log()) == (0, None, None, False, False, [])
        assert other.acquire("sending:k-1", ttl=LEASE) is True
    finally:
        other.client.delete(f"{other.prefix}lock:sending:k-1")
        other.close()


# a repeat-visit invitation as the Redis store kept it before pending messages were records (the shape
# reminders due months ahead are still stored in): every key, in this order, times with their offsets
STORED = ('{"rule":"repeat-nails","subject":"a-1061","kind":"appointment","location":"kyiv","recipient":"client",'
          '"due":"2026-03-23T10:15:00+02:00","planned":"2026-03-23T10:15:00+02:00",'
          '"key":"94844dbdd83dd18cd68dea547f045144a110e28e","suspended":false,'
          '"info":{"cycle":"a-1061","cycle_start":"2026-03-02T10:15:00+02:00","categories":["nails"]},'
          '"services":["manicure"],"event":{"id":"evt-0043","type":"appointment.status_changed",'
          '"occurred_at":"2026-03-02T11:18:00+02:00"},"previous":{"status":"confirmed","start":null},'
          '"send_at":"2026-03-23T08:15:00+00:00"}')


def test_a_pending_message_is_kept_in_redis_as_the_json_it_always_was(redis_store: RedisStore) -> None:
    # Given a message stored in the shape of earlier versions
    slot = "repeat-nails|client:c-1|client"
    redis_store.client.hset(f"{redis_store.prefix}pending", slot, STORED)
    redis_store.client.hset(f"{redis_store.prefix}versions", slot, 3)
    # When it is read, it is the record of what was stored
    found = redis_store.pending(slot)
    assert found is not None
    assert (found.slot, found.version, found.rule, found.subject, found.location, found.services) == \
        (slot, 3, "repeat-nails", "a-1061", "kyiv", ("manicure",))
    assert (found.due.isoformat(), found.event.id, found.event.occurred_at.isoformat()) == \
        ("2026-03-23T10:15:00+02:00", "evt-0043", "2026-03-02T11:18:00+02:00")
    assert found.previous is not None and (found.previous.status, found.previous.start) == ("confirmed", None)
    assert found.info == {"cycle": "a-1061", "cycle_start": "2026-03-02T10:15:00+02:00", "categories": ["nails"]}
    # and when it is written again, it is stored in the compact form, which reads back as the same message
    redis_store.schedule(slot, send_at=found.send_at, message=found)
    assert json.loads(redis_store.client.hget(f"{redis_store.prefix}pending", slot) or "")["v"] == 2
    again = redis_store.pending(slot)
    assert again is not None and attrs.evolve(again, version=3) == found


# the same invitation in the compact form (version 2) that pending messages are written in since: a reader
# of any later version must read it. The idempotency key is left out: it is the one the rule, subject,
# recipient and due time give; planned is due, the kind the event type's
STORED_2 = ('{"v":2,"r":"repeat-nails","s":"a-1061","l":"kyiv","d":[1774253700,120],'
            '"i":{"cycle":"a-1061","cycle_start":"2026-03-02T10:15:00+02:00","categories":["nails"]},'
            '"sv":["manicure"],"e":["evt-0043","appointment.status_changed",[1772443080,120]],'
            '"pv":["confirmed",null],"t":1774253700}')


def test_a_pending_message_is_kept_in_redis_in_the_compact_json_of_form_2(redis_store: RedisStore) -> None:
    # Given the message of the first form, read back
    slot = "repeat-nails|client:c-1|client"
    redis_store.client.hset(f"{redis_store.prefix}pending", slot, STORED)
    first = redis_store.pending(slot)
    assert first is not None
    # When it is written again, it is the compact form, byte for byte, about a third of the first's bytes
    redis_store.schedule(slot, send_at=first.send_at, message=first)
    stored = redis_store.client.hget(f"{redis_store.prefix}pending", slot)
    assert stored == STORED_2 and len(STORED_2) < 0.6 * len(STORED)
    # and the compact form reads back as the same message, times with their offsets
    found = redis_store.pending(slot)
    assert found is not None and attrs.evolve(found, version=first.version) == first
    assert (found.due.isoformat(), found.planned.isoformat(), found.event.occurred_at.isoformat()) == \
        ("2026-03-23T10:15:00+02:00", "2026-03-23T10:15:00+02:00", "2026-03-02T11:18:00+02:00")
    # a message the pipeline plans leaves out its key (worked out again) and every default
    planned = payload(key=idempotency_key("reminder-24h", "v-1", "client", T0), location="old-town")
    redis_store.schedule("r|v-1|client", send_at=at(5), message=planned)
    assert json.loads(redis_store.client.hget(f"{redis_store.prefix}pending", "r|v-1|client") or "") == \
        {"v": 2, "r": "reminder-24h", "s": "v-1", "l": "old-town", "d": 1773144000,
         "e": ["evt-1", "appointment.created", 1773144000], "t": 1773144300}
    back = redis_store.pending("r|v-1|client")
    assert back is not None and attrs.evolve(back, slot="", version=0, send_at=None) == planned


def test_a_redis_url_opens_a_redis_store(redis_url: str) -> None:
    # (in a namespace of the test's own: opening a store writes its schema version, and the shared Redis's
    # default namespace is nobody's to write in)
    namespace = f"test-open-{uuid.uuid4().hex[:10]}"
    store = open_store(redis_url, namespace=namespace)
    try:
        assert isinstance(store, RedisStore)
        assert store.prefix == f"{namespace}:"
        assert inspect.signature(open_store).parameters["namespace"].default == "tidings"   # keys start "tidings:"
    finally:
        store.client.delete(*store.client.keys(f"{namespace}:*") or [f"{namespace}:schema"])
        store.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_redis_answers_a_random_sequence_of_operations_exactly_as_memory_does(redis_store: RedisStore, seed: int) -> None:
    # Given the same operations applied to both backends, on a moving virtual clock
    rng = random.Random(seed)
    memory = MemoryStore()
    slots = [f"r|subject:v-{i}|client" for i in range(8)]
    claimed: list[tuple[str, int]] = []
    now = T0
    for step in range(400):
        now += timedelta(minutes=rng.randint(0, 20))
        slot = rng.choice(slots)
        op = rng.choice(["schedule", "schedule", "suspend", "drop", "claim", "claim", "complete", "subject", "log"])
        if op == "schedule":
            call: tuple[str, tuple[Any, ...], dict[str, Any]] = (
                "schedule", (slot,), {"send_at": now + timedelta(minutes=rng.randint(-30, 90)), "message": payload(info={"n": step})})
        elif op == "suspend":
            call = ("schedule", (slot,), {"send_at": None, "message": payload(info={"n": step}, suspended=True)})
        elif op == "drop":
            call = ("drop", (slot,), {})
        elif op == "claim":
            call = ("claim_due", (now,), {"limit": rng.randint(1, 4), "lease": timedelta(minutes=rng.choice([1, 5, 30]))})
        elif op == "complete":
            # mostly a version some claim returned (current or stale by now), sometimes any number
            call = ("complete", rng.choice(claimed) if claimed and rng.random() < 0.8 else (slot, rng.randint(1, 6)), {})
        elif op == "subject":
            subject = visit(f"v-{rng.randint(0, 3)}", client=rng.choice(["c-ola", "c-ivan"]), status=f"s{step}")
            call = ("put_subject", ("visit", subject), {"occurred_at": now - timedelta(minutes=rng.randint(0, 120))})
        else:
            call = ("record", (entry(step, f"v-{rng.randint(0, 3)}", rng.choice(["c-ola", None])),), {})
        name, args, kwargs = call
        # Then every answer, and the state read back after it, is the same
        answer = getattr(memory, name)(*args, **kwargs)
        assert getattr(redis_store, name)(*args, **kwargs) == answer, (step, call)
        if name == "claim_due":
            claimed.extend(answer)
        assert redis_store.pending(slot) == memory.pending(slot), (step, call)
        assert (redis_store.next_due(), redis_store.count_pending()) == (memory.next_due(), memory.count_pending()), step
    for i in range(4):
        assert redis_store.subject(f"v-{i}") == memory.subject(f"v-{i}")
        assert redis_store.log(subject=f"v-{i}") == memory.log(subject=f"v-{i}")
    for client in ("c-ola", "c-ivan"):
        assert redis_store.client_subjects(client) == memory.client_subjects(client)
        assert redis_store.log(client=client) == memory.log(client=client)
    assert redis_store.log() == memory.log()


def test_a_subject_that_moves_to_another_client_is_only_that_clients(store: Any) -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    store.put_subject("appointment", {"id": "a-1", "client": {"id": "c-1"}}, occurred_at=at)
    store.put_subject("appointment", {"id": "a-1", "client": {"id": "c-2"}}, occurred_at=at.replace(hour=10))
    assert store.client_subjects("c-1") == []
    assert [s["subject"]["id"] for s in store.client_subjects("c-2")] == ["a-1"]


# ---------------------------------------------------------------- plugins' own data


def test_plugin_data_keeps_json_values_by_key_per_namespace(store: ScheduleStore) -> None:
    from tidings.store import PluginData

    manual, other = PluginData(store, "manual"), PluginData(store, "other")
    assert manual.get("m-1") is None
    assert manual.put("m-1", {"text": "Hi Ola", "links": {"sms": "sms:+48600100200"}, "n": 2}) is True
    assert manual.get("m-1") == {"text": "Hi Ola", "links": {"sms": "sms:+48600100200"}, "n": 2}
    assert other.get("m-1") is None, "a namespace sees only its own values"
    assert manual.put("m-1", {"text": "again"}) is True
    assert manual.get("m-1") == {"text": "again"}
    assert manual.delete("m-1") is True and manual.delete("m-1") is False
    assert manual.get("m-1") is None


def test_a_new_value_is_written_only_once(store: ScheduleStore) -> None:
    from tidings.store import PluginData

    data = PluginData(store, "manual")
    assert data.put("k", {"first": True}, new=True) is True
    assert data.put("k", {"first": False}, new=True) is False
    assert data.get("k") == {"first": True}


def test_a_value_with_a_ttl_is_forgotten_after_it(store: ScheduleStore) -> None:
    from tidings.store import PluginData

    data = PluginData(store, "manual")
    data.put("brief", {"v": 1}, ttl=timedelta(milliseconds=50))
    data.put("kept", {"v": 2}, ttl=timedelta(days=1))
    deadline = time.monotonic() + 10
    while data.get("brief") is not None:
        assert time.monotonic() < deadline, "a value outlived its ttl by ten seconds"
        time.sleep(0.02)
    assert data.get("kept") == {"v": 2}
    assert data.put("brief", {"v": 3}, new=True) is True, "a forgotten key is new again"


def test_plugin_lists_keep_their_order_and_lose_what_is_removed(store: ScheduleStore) -> None:
    from tidings.store import PluginData

    data = PluginData(store, "manual")
    assert data.items("queued") == []
    for item in ("a", "b", "c"):
        data.append("queued", item)
    assert data.items("queued") == ["a", "b", "c"]
    assert PluginData(store, "other").items("queued") == []
    assert data.remove("queued", "b") is True and data.remove("queued", "b") is False
    assert data.items("queued") == ["a", "c"]


def test_a_namespace_that_could_collide_is_refused() -> None:
    from tidings.store import PluginData

    for bad in ("", "Manual", "man:ual", "a b"):
        with pytest.raises(ValueError, match="cannot name a plugin's data"):
            PluginData(MemoryStore(), bad)


def test_redis_keeps_plugin_data_under_the_store_prefix(redis_store: RedisStore) -> None:
    from tidings.store import PluginData

    PluginData(redis_store, "manual").put("m-1", {"x": 1})
    PluginData(redis_store, "manual").append("queued", "m-1")
    keys = set(redis_store.client.scan_iter(match=f"{redis_store.prefix}data:*"))
    assert keys == {f"{redis_store.prefix}data:manual:value:m-1", f"{redis_store.prefix}data:manual:list:queued"}


def test_a_hold_keeps_claimed_slots_out_of_the_due_index_and_never_shortens_one(store: ScheduleStore) -> None:
    # Given two claimed slots, one of them rescheduled since
    store.schedule("a", send_at=at(0), message=payload())
    store.schedule("b", send_at=at(0), message=payload())
    claims = store.claim_due(at(0), limit=10, lease=timedelta(seconds=10))
    store.schedule("b", send_at=at(0), message=payload())

    # When both are held for an hour, then one of them for less
    assert store.hold(claims, until=at(60)) == 1   # only the slot still at its claimed version
    assert store.hold([c for c in claims if c[0] == "a"], until=at(5)) == 1

    # Then the held slot comes due after the hour only; the rescheduled one is due as scheduled
    assert [slot for slot, _ in store.claim_due(at(59), limit=10, lease=LEASE)] == ["b"]
    assert [slot for slot, _ in store.claim_due(at(60), limit=10, lease=LEASE)] == ["a"]
    assert store.hold([], until=at(90)) == 0


def test_a_refusal_is_kept_per_message_and_channel(store: ScheduleStore) -> None:
    assert store.refused("k-1") == {}
    store.refuse("k-1", channel="sms", address="+48600100200")
    store.refuse("k-1", channel="email", address="")
    assert store.refused("k-1") == {"sms": "+48600100200", "email": ""}
    assert store.refused("k-2") == {}


# ---------------------------------------------------------------- the delivery log's compact form

ENTRIES: list[LogEntry] = [
    Planned(rule="r", subject="v-1", client="c-ola", event="evt-1", at=at(0), status="scheduled", reason="created",
            due=at(60)),
    Planned(rule="r", subject="v-1", client=None, event="evt-1", at=T0.replace(microsecond=123456), status="skipped",
            reason="already_sent"),
    Dropped(rule="r", subject="v-1", client="c-ola", event="evt-2", at=at(1), reason="status_cancelled", due=None),
    Ignored(subject="v-1", event="evt-3", type="appointment.canceled", client=None, at=at(2)),
    Sent(rule="r", subject="v-1", event="evt-1", at=at(3), key="k-1", client="c-ola", channel="sms", to="+48***200",
         title=None, text="Hi Ola", provider_id="p-1", info={"segments": 1, "encoding": "gsm-7"}),
    Outcome(rule="r", subject="v-1", event="evt-1", at=at(4), key="k-1", client="c-ola", status="failed",
            reason="rejected", refused={"sms": "no_consent"}, error_type="ProviderError", remembered=False),
]


@pytest.mark.parametrize("entry_", ENTRIES, ids=[f"{type(e).__name__}-{i}" for i, e in enumerate(ENTRIES)])
def test_a_log_entry_in_the_compact_form_reads_back_as_its_json_key_for_key(entry_: LogEntry) -> None:
    from tidings.store.entries import entry_compact, entry_from_compact
    compact = json.dumps(entry_compact(entry_), separators=(",", ":"))
    assert list(entry_from_compact(json.loads(compact)).items()) == list(entry_json(entry_).items())
    assert len(compact) < 0.75 * len(json.dumps(entry_json(entry_), separators=(",", ":")))


def test_the_redis_log_reads_entries_of_the_first_form_beside_compact_ones(redis_store: RedisStore) -> None:
    # Given an entry as earlier versions wrote it (the entry's JSON object), then one written now (an array)
    first = entry_json(ENTRIES[0])
    stream_id = redis_store.client.xadd(f"{redis_store.prefix}log", {"e": json.dumps(first)},
                                        id=f"{int(time.time() * 1000) - 1000}-0")   # a second ago, in the retention
    redis_store.client.rpush(f"{redis_store.prefix}log:subject:v-1", stream_id)
    redis_store.record(ENTRIES[2])
    stored = [fields["e"] for _, fields in redis_store.client.xrange(f"{redis_store.prefix}log")]
    assert stored[0].startswith("{") and stored[1] == \
        '[1,"r","v-1","c-ola","evt-2",1773144060000000,"dropped","status_cancelled"]'
    # Then both read as `tidings log` prints them
    assert redis_store.log(subject="v-1") == [first, entry_json(ENTRIES[2])]


def test_a_snapshot_the_pipeline_wrote_is_kept_without_its_defaults_and_read_back_whole(redis_store: RedisStore) -> None:
    from tidings.models import Subject, subject_from_dict, subject_to_dict
    # Given a full snapshot as the pipeline writes it (every field, defaults included)
    full = subject_to_dict(subject_from_dict({
        "id": "v-9", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
        "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}, {"id": "tea"}],
        "staff": {"id": "s-1", "name": "Anna"}, "client": {"id": "c-ola", "phone": "+48600100200"},
        "data": {"note": None}}))
    assert set(full) == {f.name for f in attrs.fields(Subject)}
    redis_store.put_subject("appointment", full, occurred_at=at(0), order="1:evt-1")
    # Then Redis keeps it without the default values, marked, and it reads back as it was written
    stored = json.loads(redis_store.client.get(f"{redis_store.prefix}subj:v-9") or "")
    assert stored["v"] == 2 and "end" not in stored["subject"] and "push" not in stored["subject"]["staff"]
    assert stored["subject"]["data"] == {"note": None}   # the host's own data is kept as it is
    found = redis_store.subject("v-9")
    assert found is not None and found["subject"] == full and "v" not in found
    assert [s["subject"] for s in redis_store.client_subjects("c-ola")] == [full]
    # and a partial one (a host's or a test's dict) is kept as it was given
    redis_store.put_subject("visit", visit("v-10"), occurred_at=at(0))
    assert "v" not in json.loads(redis_store.client.get(f"{redis_store.prefix}subj:v-10") or "")
    assert (redis_store.subject("v-10") or {})["subject"] == visit("v-10")
