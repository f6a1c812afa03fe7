"""The crash test of the pipeline (issue 3): 10,000 events, 2 workers, 2 schedulers, one worker SIGKILLed.

Real Redis (broker and store: a `redis-server` of its own on a spare port, started and stopped by this
script, so the shared Redis is never touched), a real local HTTP SMS provider speaking the JSON API, and real `tidings worker` / `tidings scheduler` processes. Each event
produces one immediate SMS. When the provider has received a third of them, one worker is killed with
SIGKILL and started again. The script waits until every message has arrived and nothing is pending,
then prints what the provider saw: requests, distinct idempotency keys, keys seen more than once, and
subjects delivered more than once.

The provider can be asked for a message by its idempotency key (``lookup_url``), as the JSON SMS
channel supports: a request that was on the wire when its worker was killed leaves no "sent" mark,
so the message is dispatched again, and the pipeline first asks the provider whether it has it
instead of sending it a second time. The provider still honours ``Idempotency-Key`` (a key it has
seen gets the original answer and no second delivery), so ``subjects_delivered_twice`` and
``keys_seen_twice`` are counted separately: the first would mean the key changed between attempts,
the second that a message was posted twice.

Exit status 0 when every subject was delivered exactly once and no idempotency key was posted twice.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from services import RedisServer
from tidings.testing import LocalJsonProvider
from tidings.testing.deployments import booking_sms_config

TIDINGS = str(Path(sys.executable).with_name("tidings"))



class Provider(LocalJsonProvider):
    """The local provider, with the counts this test reports."""

    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            return sum(self.posts.values()), len(self.posts), sum(1 for c in self.posts.values() if c > 1)

    def subject_counts(self) -> tuple[int, int]:
        with self.lock:
            subjects = Counter(str(m["text"]) for m in self.delivered)   # "Booked: a-17"
        return len(subjects), sum(1 for c in subjects.values() if c > 1)


def start(kind: str, config: Path) -> subprocess.Popen[bytes]:
    extra = ["--threads", "4"] if kind == "worker" else ["--interval", "0.2"]
    return subprocess.Popen([TIDINGS, "--log-level", "error", kind, "--config", str(config), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kill-at", type=int, default=None, help="kill a worker when the provider has this many (default: a third)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    kill_at = args.kill_at if args.kill_at is not None else args.events // 3
    with RedisServer() as redis_server:
        return run(args, kill_at=kill_at, redis_url=redis_server.url)


def run(args: argparse.Namespace, *, kill_at: int, redis_url: str) -> int:
    provider = Provider()
    folder = Path(tempfile.mkdtemp(prefix="tidings-crash-"))
    config = folder / "tidings.toml"
    config.write_text(booking_sms_config(
        store=redis_url, url=provider.url, sender="Tidings", tidings='lease = "1m"',
        sms=f'body = {{ to = "{{to}}", from = "{{sender}}", text = "{{text}}" }}\nlookup_url = "{provider.url}/{{idempotency_key}}"'))

    from tidings.config import load_config
    from tidings.pipeline import build_pipeline, open_broker
    from tidings.store import open_store
    cfg = load_config(config)
    store = open_store(cfg.tidings.store)
    publisher = build_pipeline(open_broker(cfg.tidings.broker), cfg, store, transports={})

    processes = {name: start(name.split("-")[0], config) for name in ("worker-1", "worker-2", "scheduler-1", "scheduler-2")}
    began = time.monotonic()
    now = datetime.now(timezone.utc)
    for n in range(args.events):
        publisher.publish({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": now.isoformat(),
                           "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-01-01T10:00:00+01:00",
                                       "client": {"id": f"c-{n}", "name": "Client", "phone": f"+4860{n:07d}",
                                                  "consents": {"sms": True}}}})
    published = time.monotonic() - began
    print(f"published {args.events} events in {published:.1f} s")

    killed_at = None
    deadline = began + args.timeout
    while time.monotonic() < deadline:
        requests, distinct, repeated = provider.counts()
        if killed_at is None and requests >= kill_at:
            processes["worker-1"].send_signal(signal.SIGKILL)
            processes["worker-1"].wait()
            killed_at = requests
            print(f"worker-1 killed with SIGKILL at {requests} messages ({time.monotonic() - began:.1f} s); restarted")
            processes["worker-1"] = start("worker", config)
        if distinct >= args.events and store.count_pending() == 0:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - began
    # let any late redelivery show itself before counting duplicates
    time.sleep(2)
    requests, distinct, repeated = provider.counts()
    subjects, subjects_twice = provider.subject_counts()
    lookups = dict(provider.lookups)
    pending_left = store.count_pending()
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    store.close()
    provider.stop()
    print(json.dumps({"events": args.events, "killed_at": killed_at, "provider_requests": requests,
                      "distinct_keys": distinct, "keys_seen_twice": repeated, "subjects_delivered": subjects,
                      "subjects_delivered_twice": subjects_twice, "lookups": lookups,
                      "pending_left": pending_left,
                      "seconds": round(elapsed, 1), "messages_per_second": round(distinct / elapsed, 1)}))
    return 0 if subjects == args.events and subjects_twice == 0 and distinct == args.events and repeated == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
