"""Garbage in, nothing lost (docs/reliability.md, PRODUCT §3): hypothesis-generated events and bytes.

Any line of bytes on the way in (`publish`, `simulate`) is one bad event, reported with its line
number, never a traceback and never a stop: the good event after it still goes out. An event that
passes validation is planned and delivered by the real pipeline on both stores without raising;
one that does not is refused naming a field.
"""

from __future__ import annotations

import io
import json
import math
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.clock import VirtualClock
from tidings.config import parse_config
from tidings.errors import EventError
from tidings.intake import EventReader
from tidings.pipeline import build_pipeline, events_from_lines
from tidings.recording import RecordingTransport
from tidings.simulate import run
from tidings.store.memory import MemoryStore
from tidings.store.redis import RedisStore

CONFIG = parse_config({
    "tidings": {"timezone": "Europe/Warsaw"},
    "plugins": {"channels": ["sms", "email"], "triggers": ["status-change", "pre-visit"]},
    "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "prefer_sms",
               "template": "booked"},
              {"id": "reminder", "trigger": "pre-visit", "before": "24h", "channel": "sms", "template": "booked"}],
    "templates": {"booked": {"sms": "Hi {{ client.name }}, {{ subject.start | datetime }}",
                             "email": {"subject": "Hi", "text": "Hi {{ client.name }}"}}},
})

GOOD = {"id": "evt-good", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
        "subject": {"id": "a-good", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                    "client": {"id": "c-good", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True}}}}

# values a host might send by mistake, besides arbitrary ones: edge times, lone surrogates, NaN
ODD_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(["\ud800", "x\udfffy", "\x00", "\u2028", "ł" * 3]))
ODD_TIMES = st.one_of(st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00",
                                       "9999-12-31T23:59:59-14:00", "2026-03-02T09:00:00", "2026-02-30T09:00:00Z",
                                       "2026-03-02T09:00:00+01:00", "2026-03-10T14:00:00+01:00"]),
                      st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                                   timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()), ODD_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), ODD_TEXT)
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
                    max_leaves=6)


PATHS = [("id",), ("type",), ("occurred_at",), ("subject",), ("subject", "id"), ("subject", "status"),
         ("subject", "start"), ("subject", "data"), ("subject", "client"), ("subject", "client", "id"),
         ("subject", "client", "name"), ("subject", "client", "phone"), ("subject", "client", "email"),
         ("subject", "client", "consents"), ("subject", "client", "consents", "sms")]


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """A good event with up to two of its values replaced by something odd, or removed."""
    event = json.loads(json.dumps(GOOD))
    event["id"], event["subject"]["id"] = "evt-odd", "a-odd"   # not the good event's: that one must still count
    event["subject"]["client"]["email"] = "ola@example.com"
    event["subject"]["client"]["consents"]["email"] = True
    event["subject"]["data"] = draw(st.one_of(st.just({"note": "x"}), DATA))
    for path in draw(st.lists(st.sampled_from(PATHS), max_size=2)):
        parent = event
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent.get(key), dict) else {}
        if draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(st.one_of(ODD_TIMES, SCALARS, DATA))
    return event


def pipeline_on(store: Any) -> Any:
    """The real pipeline without a broker, on a virtual clock, each channel recording what it would send."""
    clock = VirtualClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    transports = {name: RecordingTransport(name, clock) for name in ("sms", "email")}
    return build_pipeline(None, CONFIG, store, clock=clock, transports=transports)


event_counts: Counter[str] = Counter()   # how many generated events passed validation (see the test after)


def as_line(event: dict[str, Any]) -> str:
    # Python's json writes NaN and lone surrogates (as escapes), as a careless host's encoder might
    return json.dumps(event, allow_nan=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.lists(st.binary(max_size=200), min_size=1, max_size=4))
def test_any_bytes_before_a_good_event_are_bad_lines_and_the_good_event_still_comes_through(garbage: list[bytes]) -> None:
    lines = [*(g.replace(b"\n", b" ") + b"\n" for g in garbage), as_line(GOOD).encode() + b"\n"]
    read = list(events_from_lines(lines, EventReader.for_config(CONFIG)))
    assert read[-1][0] == len(lines) and not isinstance(read[-1][1], EventError)
    assert all(isinstance(item, EventError) or item.id for _, item in read[:-1])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_an_event_is_refused_naming_a_field_or_planned_and_delivered_without_raising(event: dict[str, Any]) -> None:
    reader = EventReader.for_config(CONFIG)
    try:
        reader.read(as_line(event))
    except EventError as e:
        assert str(e)   # a clear error, which the reader raised instead of anything else
        event_counts["refused"] += 1
        return
    pipeline = pipeline_on(MemoryStore())
    pipeline.publish(event)            # planned here (no broker), and what is due now is sent
    pipeline.enqueue_due()
    event_counts["accepted"] += 1


def test_odd_but_valid_values_are_kept_by_the_redis_store_as_by_memory(redis_store: RedisStore) -> None:
    # Given events at the edges of what validation lets through, planned and sent on both stores
    odd = [dict(GOOD, id=f"evt-{i}", subject=dict(GOOD["subject"], id=f"a-{i}", data=data))
           for i, data in enumerate([{"n": 1.5, "big": 2**62}, {"text": "ż\u2028x"}, {"list": [None, True, "x"]}])]
    memory = MemoryStore()
    for store in (redis_store, memory):
        pipeline = pipeline_on(store)
        for event in odd:
            pipeline.publish(event)
        pipeline.enqueue_due()
    # Then both stores hold the same snapshots and the same log, and nothing raised on the way
    assert [redis_store.subject(f"a-{i}") for i in range(3)] == [memory.subject(f"a-{i}") for i in range(3)]
    assert [e["status"] for e in redis_store.log()] == [e["status"] for e in memory.log()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.lists(st.one_of(st.binary(max_size=120), events().map(as_line).map(str.encode)), min_size=1,
                        max_size=5))
def test_simulate_reports_every_bad_line_and_still_sends_the_good_event_after_them(garbage: list[bytes]) -> None:
    # the lines as simulate reads a file: bytes, so a line that is not UTF-8 is one bad event
    lines = [g.replace(b"\n", b" ").replace(b"\r", b" ") for g in garbage] + [as_line(GOOD).encode()]
    errors = io.StringIO()
    result = run(CONFIG, lines, errors=errors)  # type: ignore[arg-type]
    sent = [r for r in result.records() if r["subject"] == "a-good"]
    assert any(r["rule"] == "booked" for r in sent), errors.getvalue()
    assert errors.getvalue().count("line ") >= result.rejected


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_number_json_cannot_carry_is_refused_in_data_naming_it(value: float) -> None:
    event = dict(GOOD, subject=dict(GOOD["subject"], data={"x": value}))
    with pytest.raises(EventError, match="data"):
        EventReader.for_config(CONFIG).read(as_line(event))
