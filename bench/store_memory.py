"""How many bytes of Redis one pending reminder costs in `RedisStore`.

Schedules N pipeline-shaped reminders under a throwaway key prefix, reads ``MEMORY USAGE`` (exact:
``SAMPLES 0``) of the pending hash, the due index, the version hash and the subject index (what is
pending per subject, and when its snapshot expires), completes them all to show what a finished slot
leaves behind (the subject index until the retention runs out), and deletes its keys. It never flushes the database.

Usage::

    python bench/store_memory.py [redis://127.0.0.1:6379/0] [--count 10000]
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import datetime, timedelta, timezone
from tidings.models import Previous
from tidings.store.records import EventRef, PendingMessage, pending_json
from tidings.store.redis import RedisStore


def reminder(i: int, start: datetime) -> PendingMessage:
    """A pending message shaped like the one `tidings.pipeline` schedules for a pre-visit reminder."""
    due = start + timedelta(minutes=17 * i)
    return PendingMessage(rule="reminder-24h", subject=f"visit-{100000 + i}", kind="visit", location="old-town",
                          recipient="client", due=due, planned=due,
                          key=f"reminder-24h|visit-{100000 + i}|client|{due.isoformat()}", suspended=False, info={},
                          services=None, event=EventRef(id=f"evt-{200000 + i}", type="visit.updated", occurred_at=start),
                          previous=Previous(status="booked", start=due))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()

    store = RedisStore.from_url(args.url, prefix=f"tidings-bench:{uuid.uuid4().hex}:")
    start = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    keys = {name: f"{store.prefix}{name}" for name in ("pending", "due", "versions", "held", "subjects")}

    def usage() -> dict[str, int]:
        return {name: int(store.client.memory_usage(key, samples=0) or 0) for name, key in keys.items()}

    try:
        slots = []
        for i in range(args.count):
            message = reminder(i, start)
            slot = f"reminder-24h|subject:{message.subject}|client"
            slots.append((slot, store.schedule(slot, send_at=message.due, message=message)))
        pending = usage()
        payload_bytes = sum(len(json.dumps(pending_json(reminder(i, start)), separators=(",", ":")))
                            for i in range(args.count))
        for slot, version in slots:
            store.complete(slot, version)
        finished = usage()
    finally:
        found = list(store.client.scan_iter(match=f"{store.prefix}*"))
        if found:
            store.client.delete(*found)
        store.close()

    n = args.count
    print(f"{n} pending reminders, payload JSON {payload_bytes / n:.0f} B each")
    for name, size in pending.items():
        print(f"  {name:<9} {size / n:7.0f} B per reminder")
    print(f"  total     {sum(pending.values()) / n:7.0f} B per pending reminder")
    print(f"after completing them all: {sum(finished.values()) / n:.0f} B per finished slot (its subject's expiry)")


if __name__ == "__main__":
    main()
