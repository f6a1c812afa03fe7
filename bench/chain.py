"""A generated chain of salons: its configuration and a deterministic stream of booking events.

Ten locations (by default) in three time zones with their own opening hours, a pool of returning
clients per location, and bookings that are created (pending or confirmed), confirmed, rescheduled,
cancelled, missed or completed, at a constant load all year: about 27 events per location and day,
so a year of ten locations is about 100,000 events. The rules exercise every trigger: a confirmation,
two reminders, a review request in working hours and two repeat-visit invitations (by service and by
category) that are held while the client has booked again.

The same seed gives the same events, byte for byte. Usage::

    python bench/chain.py --days 365 --out /tmp/chain      # writes config.toml and events.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

START = date(2026, 1, 5)          # a Monday
BOOKINGS_PER_DAY = 11.0           # per location; with their follow-ups about 27 events a location and day

SERVICES = [
    {"id": "haircut", "name": "Haircut", "category": "hair", "minutes": 45},
    {"id": "colour", "name": "Colour", "category": "hair", "minutes": 90},
    {"id": "manicure", "name": "Manicure", "category": "nails", "minutes": 45},
    {"id": "pedicure", "name": "Pedicure", "category": "nails", "minutes": 60},
    {"id": "massage", "name": "Massage", "category": "spa", "minutes": 60},
    {"id": "brows", "name": "Brows", "minutes": 30},
]

# (zone, opening hours on weekdays, Saturday, whether it opens on Sunday)
_PLACES = [
    ("Europe/Warsaw", "09:00-18:00", "10:00-14:00"),
    ("Europe/Warsaw", "09:00-13:00,14:00-19:00", "09:00-15:00"),
    ("Europe/Berlin", "08:00-17:00", "09:00-13:00"),
    ("Europe/London", "09:00-17:30", "09:00-16:00"),
]
CITIES = ["Kraków", "Warszawa", "Berlin", "London", "Gdańsk", "Poznań", "Hamburg", "Manchester", "Wrocław", "Łódź",
          "Lublin", "München", "Leeds", "Katowice", "Szczecin", "Köln"]
LOCALES = ["pl", "pl", "pl", "en", "en", "uk", "de"]

# complete provider tables, so `tidings check` passes; simulate records instead of sending, so nothing listens there
CHANNELS = """[channels.sms]
provider = "json"
url = "http://127.0.0.1:9/messages"
sender = "Chain"
default_region = "PL"
body = { to = "{to}", from = "{sender}", text = "{text}" }

[channels.email]
host = "127.0.0.1"
port = 25
security = "none"
sender = "Chain <hello@chain.example>"
"""

RULES = """
[[rules]]
id = "booking-confirmed"
trigger = "status-change"
on = "status_changed"
from = ["pending"]
to = ["confirmed"]
channel = "prefer_sms"

[[rules]]
id = "booking-cancelled"
trigger = "status-change"
on = "status_changed"
to = ["cancelled"]
channel = "sms"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "24h"
channel = ["sms", "email"]

[[rules]]
id = "reminder-2h"
trigger = "pre-visit"
before = "2h"
statuses = ["confirmed"]
channel = "sms"

[[rules]]
id = "review-request"
trigger = "post-visit"
after = "2h"
working_hours = true
channel = "prefer_email"

[[rules]]
id = "nails-repeat"
trigger = "repeat-visit"
services = ["manicure", "pedicure"]
after = "3w"
working_hours = true
channel = "prefer_sms"

[[rules]]
id = "hair-repeat"
trigger = "repeat-visit"
categories = ["hair"]
after = "6w"
working_hours = true
channel = "prefer_sms"
"""


def location_ids(count: int) -> list[str]:
    return [f"loc-{i + 1:02d}" for i in range(count)]


def config_toml(*, locations: int = 10, store: str = "memory://", broker: str = "memory://",
                namespace: str = "tidings", extra: str = "") -> str:
    """The chain's configuration; `extra` is added to the ``[tidings]`` table (``retention = "90d"``)."""
    out = [f'[tidings]\ntimezone = "Europe/Warsaw"\nlocale = "en"\nstore = "{store}"\nbroker = "{broker}"\n'
           f'namespace = "{namespace}"\n{extra}\n',
           '[plugins]\nchannels = ["sms", "email"]\ntriggers = ["status-change", "pre-visit", "post-visit", "repeat-visit"]\n',
           CHANNELS]
    for i, location in enumerate(location_ids(locations)):
        zone, weekdays, saturday = _PLACES[i % len(_PLACES)]
        days = ", ".join(f'{d} = "{weekdays}"' for d in ("mon", "tue", "wed", "thu", "fri"))
        city = CITIES[i % len(CITIES)]
        out.append(f'[locations.{location}]\nname = "{city} {i + 1}"\naddress = "Main Street {i + 1}, {city}"\n'
                   f'timezone = "{zone}"\nhours = {{ {days}, sat = "{saturday}" }}\n')
    out.append(RULES)
    return "\n".join(out)


class _Chain:
    def __init__(self, *, seed: int, locations: int, days: int, rate: float) -> None:
        self.random = random.Random(seed)
        self.locations = location_ids(locations)
        self.days = days
        self.rate = rate
        self.booking = 0
        self.clients: dict[str, list[dict[str, Any]]] = {loc: [] for loc in self.locations}
        self.client_count = 0
        self.staff = {loc: [{"id": f"s-{loc}-{k}", "name": name} for k, name in enumerate(["Anna", "Olek", "Ira"])]
                      for loc in self.locations}

    def zone(self, location: str) -> ZoneInfo:
        return ZoneInfo(_PLACES[self.locations.index(location) % len(_PLACES)][0])

    def client(self, location: str) -> dict[str, Any]:
        pool = self.clients[location]
        # most bookings are by clients seen before: the pool grows slowly, and repeat-visit has work to do
        if pool and self.random.random() < 0.75:
            return self.random.choice(pool)
        self.client_count += 1
        n = self.client_count
        locale = self.random.choice(LOCALES)
        contact = {"id": f"c-{n}", "name": f"Client {n}", "phone": f"+4860{n:07d}", "email": f"client{n}@example.com",
                   "locale": locale, "consents": {"sms": self.random.random() < 0.9, "email": True, "push": False}}
        pool.append(contact)
        return contact

    def slot(self, location: str, day: date) -> datetime:
        """A start time inside the location's opening hours on `day` (Sunday moves to Monday)."""
        if day.weekday() == 6:
            day += timedelta(days=1)
        hour = self.random.choice([10, 11, 12] if day.weekday() == 5 else [9, 10, 11, 12, 14, 15, 16])
        return datetime.combine(day, time(hour, self.random.choice([0, 30])), self.zone(location))

    def bookings(self) -> Iterator[tuple[datetime, int, dict[str, Any]]]:
        for day in range(self.days):
            today = START + timedelta(days=day)
            for location in self.locations:
                count = int(self.rate) + (1 if self.random.random() < self.rate % 1 else 0)
                for _ in range(count):
                    yield from self.lifecycle(location, today)

    def lifecycle(self, location: str, today: date) -> Iterator[tuple[datetime, int, dict[str, Any]]]:
        r = self.random
        self.booking += 1
        zone = self.zone(location)
        created = datetime.combine(today, time(8), zone) + timedelta(minutes=r.randrange(0, 12 * 60))
        start = self.slot(location, today + timedelta(days=r.choice([0, 1, 1, 2, 3, 5, 7, 7, 10, 14, 21])))
        if start <= created + timedelta(hours=3):
            start = self.slot(location, today + timedelta(days=1))
        service = r.choice(SERVICES)
        subject = {"id": f"a-{self.booking}", "status": "pending" if r.random() < 0.4 else "confirmed",
                   "start": start.isoformat(), "location": location,
                   "services": [{k: v for k, v in service.items() if k != "minutes"}],
                   "staff": r.choice(self.staff[location]), "client": self.client(location)}
        seq = 0

        def event(at: datetime, verb: str, previous: dict[str, Any] | None = None) -> tuple[datetime, int, dict[str, Any]]:
            nonlocal seq
            seq += 1
            body: dict[str, Any] = {"type": f"appointment.{verb}", "occurred_at": at.isoformat(), "subject": dict(subject)}
            if previous is not None:
                body["previous"] = previous
            return at, self.booking * 10 + seq, body

        yield event(created, "created")
        now = created
        if subject["status"] == "pending":
            now = min(now + timedelta(minutes=r.randrange(5, 24 * 60)), start - timedelta(hours=3))
            if r.random() < 0.08:   # the salon could not take it
                subject["status"] = "rejected"
                yield event(now, "status_changed", {"status": "pending"})
                return
            subject["status"] = "confirmed"
            yield event(now, "status_changed", {"status": "pending"})
        if r.random() < 0.15:       # moved once, to another day
            old = subject["start"]
            at = now + (datetime.fromisoformat(old) - now) * r.uniform(0.1, 0.7)
            start = self.slot(location, start.date() + timedelta(days=r.choice([-1, 1, 2, 3, 7])))
            if start > at + timedelta(hours=3):
                subject["start"] = start.isoformat()
                now = at
                yield event(now, "rescheduled", {"start": old})
        start = datetime.fromisoformat(subject["start"])
        fate = r.random()
        if fate < 0.10:
            at = now + (start - now) * r.uniform(0.2, 0.95)
            subject["status"] = "cancelled"
            yield event(at, "status_changed", {"status": "confirmed"})
        elif fate < 0.13:
            subject["status"] = "no_show"
            yield event(start + timedelta(minutes=30), "status_changed", {"status": "confirmed"})
        else:
            subject["status"] = "completed"
            yield event(start + timedelta(minutes=service["minutes"]), "status_changed", {"status": "confirmed"})


def generate(*, days: int, locations: int = 10, seed: int = 12, rate: float = BOOKINGS_PER_DAY) -> list[dict[str, Any]]:
    """The chain's events of `days` days from `START`, in time order, with ids ``evt-1``, ``evt-2``, …

    Only events that happened within the span are kept (a visit booked on the last day and completed
    after it ends the stream unfinished, as a real export would).
    """
    chain = _Chain(seed=seed, locations=locations, days=days, rate=rate)
    end = datetime.combine(START + timedelta(days=days), time(0), ZoneInfo("UTC"))
    found = sorted(((at, order, body) for at, order, body in chain.bookings() if at < end), key=lambda e: (e[0], e[1]))
    return [{"id": f"evt-{n}", **body} for n, (_, _, body) in enumerate(found, 1)]


def write(folder: Path, *, days: int, locations: int = 10, seed: int = 12, store: str = "memory://",
          extra: str = "") -> tuple[Path, Path, int]:
    """Write ``config.toml`` and ``events.jsonl`` into `folder`; returns their paths and the event count."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(config_toml(locations=locations, store=store, extra=extra), encoding="utf-8")
    events = generate(days=days, locations=locations, seed=seed)
    path = folder / "events.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for item in events:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    return config, path, len(events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, required=True, help="a folder for config.toml and events.jsonl")
    args = parser.parse_args()
    _, _, count = write(args.out, days=args.days, locations=args.locations, seed=args.seed)
    print(f"{args.out}: {count} events over {args.days} days at {args.locations} locations")


if __name__ == "__main__":
    main()
