"""The generated chain (bench/chain.py): deterministic, valid events in time order, and a configuration that checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tidings.config import load_config
from tidings.models import Event

from .conftest import load_bench

chain = load_bench("chain")


def test_the_same_seed_gives_the_same_events_and_another_seed_others() -> None:
    assert chain.generate(days=3, seed=5) == chain.generate(days=3, seed=5)
    assert chain.generate(days=3, seed=5) != chain.generate(days=3, seed=6)


def test_events_are_valid_in_time_order_and_cover_the_booking_lifecycle() -> None:
    events = [Event.from_dict(raw) for raw in chain.generate(days=14)]
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert len({e.id for e in events}) == len(events)
    assert {e.verb for e in events} == {"created", "status_changed", "rescheduled"}
    assert {e.subject.status for e in events} >= {"pending", "confirmed", "cancelled", "completed", "no_show"}
    assert {e.subject.location for e in events} == set(chain.location_ids(10))
    # clients come back: repeat-visit has bookings to hold its invitations for
    clients = [e.subject.client.id for e in events if e.verb == "created" and e.subject.client]
    assert len(set(clients)) < len(clients)


def test_a_year_is_about_a_hundred_thousand_events_at_constant_load() -> None:
    month = len(chain.generate(days=30))
    assert 7_000 < month < 9_500     # a year of it: 85,000 to 115,000


def test_the_configuration_passes_check_with_every_trigger(tmp_path: Path) -> None:
    config, events, count = chain.write(tmp_path, days=1, locations=3)
    checked = subprocess.run([str(Path(sys.executable).with_name("tidings")), "check", str(config)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    cfg = load_config(config)
    assert {rule.trigger for rule in cfg.rules} == {"status-change", "pre-visit", "post-visit", "repeat-visit"}
    assert any(rule.working_hours for rule in cfg.rules)
    assert len(cfg.locations) == 3 and count == len(events.read_text().splitlines())
