"""The fault suite's numbers (issue 13): real processes under injected faults, one table row each.

Every scenario runs on a `redis-server` of its own (started and stopped by PID, never the shared one),
real `tidings worker` and `tidings scheduler` processes, and a local JSON SMS provider in this
process that can fail on purpose (`FaultyProvider`). Each event asks for one immediate SMS (and, where
a scenario says so, one a minute later); a message is identified by its text ("Booked: a-17").

Counted at the provider and in the store after every message arrived or the scenario timed out:

- lost: messages neither delivered nor recorded ``failed`` in the delivery log;
- duplicated: deliveries beyond the first of one message (what the recipient would see twice);
- recovery: how long the fault kept messages from moving, measured as the scenario says.

The provider either honours ``Idempotency-Key`` and can be asked for a message by its key (as the
JSON SMS channel's ``lookup_url`` allows), or ignores keys and has no lookup ("keyless": what
SMTP, Twilio and Web Push give), so the two columns show what the provider allows knowing.

    python bench/faults.py                    # every scenario, the Markdown table at the end
    python bench/faults.py --only flaky-30 --json out.json

Exit status 0 when no message was lost, and none duplicated where the provider allows knowing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from services import RedisServer
from tidings.testing import LocalJsonProvider
from tidings.testing.deployments import booking_sms_config
from tidings.testing.http import Reply, Request

TIDINGS = str(Path(sys.executable).with_name("tidings"))


LATER_RULE = """
[[rules]]
id = "later"
trigger = "status-change"
on = "created"
channel = "sms"
template = "later"
delay = "1m"

[templates.later]
sms = "Later: {{ subject.id }}"
"""


RULE_OF = {"Booked": "booked", "Later": "later"}   # a message's text names its rule


class FaultyProvider(LocalJsonProvider):
    """The kit's JSON SMS provider, failing a share of the requests on purpose.

    Args:
        rate: the share of POSTs that fail, each one way of `kinds`: ``429`` (with Retry-After: 1),
            ``503``, ``timeout`` (no answer, nothing delivered) or ``late`` (delivered, then no answer:
            a timeout after acceptance).
        keyless: ignore ``Idempotency-Key``: every POST is a delivery (and nothing can be looked up).
    """

    HANG_LIMIT = 2.5   # a hung request outlasts the transport's 1 s timeout, then is let go

    def __init__(self, *, rate: float = 0.0, kinds: tuple[str, ...] = (), keyless: bool = False, seed: int = 13) -> None:
        self.rate, self.kinds, self.keyless = rate, kinds, keyless
        self.rng = random.Random(seed)
        self.deliveries: Counter[str] = Counter()     # by text: how often the recipient got it
        self.first_arrival: dict[str, float] = {}
        self.hang_next: set[str] = set()              # texts whose next POST hangs, for recovery timings
        self.injected: Counter[str] = Counter()
        super().__init__()

    def respond(self, request: Request) -> Reply:
        if request.method == "GET":
            return super().respond(request)
        text = str(request.json.get("text"))
        if text in self.hang_next:
            self.hang_next.discard(text)
            self.injected["hang"] += 1
            return Reply(200, {"id": "hung"}, hang=True)
        fault = self.rng.choice(self.kinds) if self.kinds and self.rng.random() < self.rate else None
        if fault is not None:
            self.injected[fault] += 1
        if fault == "429":
            return Reply(429, {"error": "slow down"}, headers={"Retry-After": "1"})
        if fault == "503":
            return Reply(503, {"error": "unavailable"})
        if fault == "timeout":
            return Reply(200, {"id": "never"}, hang=True)
        if self.keyless:
            self.posts[text] += 1
            self._deliver(text)
            reply = Reply(201, {"id": f"m-{sum(self.deliveries.values())}"})
        else:
            key = request.headers.get("idempotency-key", "")
            replay = key in self.ids
            reply = super().respond(request)
            if not replay:
                self._deliver(text)
        return Reply(reply.status, reply.body, hang=True) if fault == "late" else reply

    def _deliver(self, text: str) -> None:
        self.deliveries[text] += 1
        self.first_arrival.setdefault(text, time.monotonic())

    def received(self) -> Counter[str]:
        """How often each message (by its text) reached the recipient."""
        with self.lock:
            return Counter(self.deliveries)


class Scenario:
    """One run: a private Redis, the provider, a configuration and the processes started on it."""

    def __init__(self, provider: FaultyProvider, *, appendonly: bool = False, later: bool = False,
                 lookup: bool = True, delivery: str = "at-least-once", broker: str | None = None) -> None:
        self.provider = provider
        self.redis = RedisServer(appendonly=appendonly).start()
        self.folder = Path(tempfile.mkdtemp(prefix="tidings-faults-"))
        self.config = self.folder / "tidings.toml"
        look = f'lookup_url = "{provider.url}/{{idempotency_key}}"' if lookup and not provider.keyless else ""
        body = 'body = { to = "{to}", from = "{sender}", text = "{text}" }'
        self.config.write_text(booking_sms_config(
            store=self.redis.url, broker=broker, url=provider.url, sender="Tidings", tidings='lease = "1m"',
            sms=f"timeout = 1\n{body}\n{look}", rule=f'delivery = "{delivery}"', more=LATER_RULE if later else ""))
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        from tidings.config import load_config
        from tidings.store import open_store
        self.cfg = load_config(self.config)
        self.store = open_store(self.cfg.tidings.store)
        self.expected: set[str] = set()

    def start(self, name: str) -> subprocess.Popen[bytes]:
        kind = name.split("-")[0]
        extra = ["--threads", "4"] if kind == "worker" else ["--interval", "0.2"]
        log = open(self.folder / f"{name}.log", "ab")   # noqa: SIM115 - the process keeps it
        process = subprocess.Popen([TIDINGS, "--log-level", "warning", kind, "--config", str(self.config), *extra],
                                   stdout=subprocess.DEVNULL, stderr=log)
        self.processes[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def alive(self) -> list[str]:
        return sorted(name for name, process in self.processes.items() if process.poll() is None)

    def publish(self, count: int, *, start: int = 0, later: bool = False) -> None:
        from tidings.pipeline import build_pipeline, open_broker
        publisher = build_pipeline(open_broker(self.cfg.tidings.broker), self.cfg, self.store, transports={})
        now = datetime.now(timezone.utc).isoformat()
        for n in range(start, start + count):
            publisher.publish({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": now,
                               "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-01-01T10:00:00+01:00",
                                           "client": {"id": f"c-{n}", "name": "Client", "phone": f"+4860{n:07d}",
                                                      "consents": {"sms": True}}}})
            self.expected.add(f"Booked: a-{n}")
            if later:
                self.expected.add(f"Later: a-{n}")
        publisher.broker.close()

    def failed(self) -> set[str]:
        """The expected messages the delivery log records failed (retries out, or outcome unknown at most once)."""
        texts = {(rule, subject): text for text in self.expected
                 for rule, subject in [(RULE_OF[text.split(": ")[0]], text.split(": ")[1])]}
        return {texts[key] for e in self.store.log() if e["status"] == "failed"
                if (key := (e["rule"], e["subject"])) in texts}

    def settled(self) -> bool:
        """Every expected message delivered or recorded failed, and nothing pending."""
        try:
            if self.store.count_pending() != 0:
                return False
            missing = self.expected - set(self.provider.received())
            return not missing or not missing - self.failed()
        except Exception:   # noqa: BLE001 - Redis restarting: not settled yet
            return False

    def wait(self, timeout: float, *, tick: Callable[[], None] | None = None) -> float:
        """Seconds until every expected message arrived and nothing is pending (or the timeout)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout and not self.settled():
            if tick is not None:
                tick()
            time.sleep(0.1)
        time.sleep(1.5)   # a late duplicate shows itself
        return time.monotonic() - began

    def counts(self) -> dict[str, Any]:
        delivered = self.provider.received()
        # a message recorded failed (retries out, or its outcome unknown at most once) is not lost: it is known
        missing = self.expected - set(delivered)
        lost = sorted(missing - self.failed())
        # what the delivery log says of the first lost ones, to explain them
        explained = {t: [(e["status"], e.get("reason")) for e in self.store.log(subject=t.split(": ")[1])
                         if e.get("rule") == RULE_OF[t.split(": ")[0]]] for t in lost[:5]}
        return {"events": len({t.split(": ")[1] for t in self.expected}), "messages": len(self.expected),
                "delivered": len(set(delivered) & self.expected), "recorded_failed": len(missing) - len(lost),
                "lost": len(lost), "duplicated": sum(c - 1 for c in delivered.values() if c > 1),
                "posts": int(sum(self.provider.posts.values())), "injected": dict(self.provider.injected),
                "pending_left": self.store.count_pending(), "alive": self.alive(), "lost_log": explained,
                "failed_reasons": dict(Counter(f"{e.get('reason')}{'' if e.get('to') is None else ' (attempted)'}"
                                               for e in self.store.log() if e["status"] == "failed"))}

    def close(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.store.close()
        self.redis.stop()
        self.provider.stop()


@contextmanager
def scenario(provider: FaultyProvider, **options: Any) -> Iterator[Scenario]:
    run = Scenario(provider, **options)
    try:
        yield run
    finally:
        run.close()


# ---------------------------------------------------------------- the scenarios


def worker_sigkill(events: int, *, keyless: bool = False) -> dict[str, Any]:
    """Two workers and a scheduler; a third of the way through, worker-1 is SIGKILLed and started again."""
    with scenario(FaultyProvider(keyless=keyless)) as run:
        for name in ("worker-1", "worker-2", "scheduler-1"):
            run.start(name)
        run.publish(events)
        killed: list[float] = []

        def tick() -> None:
            if not killed and sum(run.provider.received().values()) >= events // 3:
                run.kill("worker-1")
                killed.append(time.monotonic())
                run.start("worker-1")
        seconds = run.wait(300, tick=tick)
        return {**run.counts(), "seconds": round(seconds, 1)}


def connected_to(pid: int, port: int) -> bool:
    """Whether process `pid` has a TCP connection to 127.0.0.1:`port` (read from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[9] in inodes:
            return True
    return False


def worker_requeue() -> dict[str, Any]:
    """How soon a dead worker's message is delivered by another: its request hangs, its worker is SIGKILLed."""
    with scenario(FaultyProvider()) as run:
        run.provider.hang_next.add("Booked: a-0")
        for name in ("worker-1", "worker-2", "scheduler-1"):
            run.start(name)
        time.sleep(3)                       # both workers are up and polling
        run.publish(1)
        deadline = time.monotonic() + 60
        while run.provider.injected["hang"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        port = int(run.provider.url.split(":")[2].split("/")[0])
        [holder] = [n for n in ("worker-1", "worker-2") if connected_to(run.processes[n].pid, port)]
        run.kill(holder)                    # while its request hangs: before its 1 s timeout
        killed = time.monotonic()
        run.wait(120)
        arrived = run.provider.first_arrival.get("Booked: a-0")
        return {**run.counts(), "recovery_s": round(arrived - killed, 1) if arrived else None}


CLAIM_AND_HANG = """
import sys, time
from tidings.clock import SystemClock
from tidings.config import load_config
from tidings.pipeline.scheduler import IN_HAND
from tidings.store import open_store
cfg = load_config(sys.argv[1])
store = open_store(cfg.tidings.store)
# a scheduler's first step, as Scheduler.enqueue_due takes it; killed before it hands anything over
claimed = store.claim_due(SystemClock().now(), limit=100_000, lease=min(IN_HAND, cfg.tidings.lease.elapsed()))
print(len(claimed), flush=True)
time.sleep(3600)
"""


def scheduler_sigkill(events: int, rounds: int) -> dict[str, Any]:
    """A scheduler SIGKILLed between claim and enqueue, `rounds` times: how soon the slots come back."""
    with scenario(FaultyProvider()) as run:
        run.start("worker-1")
        recoveries: list[float] = []
        for round_ in range(rounds):
            run.publish(events, start=round_ * events)
            deadline = time.monotonic() + 120
            while run.store.count_pending() < events and time.monotonic() < deadline:
                time.sleep(0.05)
            claimer = subprocess.Popen([sys.executable, "-c", CLAIM_AND_HANG, str(run.config)], stdout=subprocess.PIPE)
            assert claimer.stdout is not None
            claimed = int(claimer.stdout.readline() or 0)
            claimer.send_signal(signal.SIGKILL)
            claimer.wait()
            killed = time.monotonic()
            run.start("scheduler-1")
            run.wait(120)
            arrivals = [run.provider.first_arrival[t] for t in run.expected if t in run.provider.first_arrival]
            recoveries.append(max(arrivals) - killed)
            assert claimed == events, f"the claimer took {claimed} of {events}"
            run.kill("scheduler-1")
        return {**run.counts(), "recovery_s": round(max(recoveries), 1), "rounds": rounds,
                "recoveries_s": [round(r, 1) for r in recoveries]}


def redis_restart(events: int, *, down: float = 5.0) -> dict[str, Any]:
    """Redis (AOF on) stopped for `down` seconds and started again, with due and pending reminders."""
    with scenario(FaultyProvider(), appendonly=True, later=True) as run:
        for name in ("worker-1", "worker-2", "scheduler-1", "scheduler-2"):
            run.start(name)
        run.publish(events, later=True)
        time.sleep(1.0)
        run.redis.stop(keep_data=True)
        stopped = time.monotonic()
        time.sleep(down)
        run.redis.start()
        run.wait(20)   # the processes meet the restarted Redis (a process that cannot ride it out is dead by then)
        alive = run.alive()
        restarted = sorted(set(run.processes) - set(alive))
        for name in restarted:   # the data's view: what the store still holds once processes are back
            run.processes.pop(name)
            run.start(name)
        run.wait(240)
        return {**run.counts(), "alive_after_outage": alive, "restarted_by_hand": restarted,
                "seconds": round(time.monotonic() - stopped, 1)}


def resumed(run: Scenario, kills: list[float]) -> dict[str, Any]:
    """After each kill, how long until a message arrived that had not before (deliveries going on): the longest."""
    arrivals = sorted(run.provider.first_arrival.values())
    after = [min((t for t in arrivals if t > kill), default=None) for kill in kills]
    gaps = [round(t - kill, 2) for t, kill in zip(after, kills) if t is not None]
    return {"resumed_s": gaps, "recovery_s": max(gaps) if gaps else None}


def client_kill(events: int, *, kills: int = 8) -> dict[str, Any]:
    """Every connection to Redis dropped (CLIENT KILL TYPE normal) `kills` times under load."""
    with scenario(FaultyProvider()) as run:
        for name in ("worker-1", "worker-2", "scheduler-1", "scheduler-2"):
            run.start(name)
        run.publish(events)
        admin = run.redis.client()
        done: list[float] = []

        def tick() -> None:
            if len(done) < kills and (not done or time.monotonic() - done[-1] > 1.0):
                try:
                    admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                except Exception:   # noqa: BLE001 - counted as done all the same
                    pass
                done.append(time.monotonic())
        seconds = run.wait(300, tick=tick)
        return {**run.counts(), "kills": len(done), **resumed(run, done), "seconds": round(seconds, 1)}


RABBITMQ_VHOST = os.environ.get("TIDINGS_FAULTS_VHOST", "tidings-faults")   # a vhost of the suite's own, deleted after


def rabbitmq_kill(events: int, *, kills: int = 8) -> dict[str, Any]:
    """Every connection to RabbitMQ dropped (``rabbitmqctl close_all_connections``) `kills` times under load.

    The broker is the local RabbitMQ, in a vhost of the suite's own (created if missing; only its
    connections are closed, never another deployment's); the store is the scenario's Redis.
    """
    ctl = ["rabbitmqctl", "--quiet"]
    subprocess.run([*ctl, "add_vhost", RABBITMQ_VHOST], capture_output=True, check=False)
    subprocess.run([*ctl, "set_permissions", "-p", RABBITMQ_VHOST, "guest", ".*", ".*", ".*"], capture_output=True,
                   check=True)
    broker = f"amqp://guest:guest@127.0.0.1:5672/{RABBITMQ_VHOST}"
    try:
        return _rabbitmq_kill(events, kills, ctl, broker)
    finally:
        subprocess.run([*ctl, "delete_vhost", RABBITMQ_VHOST], capture_output=True, check=False)


def _rabbitmq_kill(events: int, kills: int, ctl: list[str], broker: str) -> dict[str, Any]:
    with scenario(FaultyProvider(), broker=broker) as run:
        # published first (publisher confirms, one by one: slower than the workers), then the processes start
        # and every connection is closed while they drain the queue: ingest, dispatch and retry messages
        run.publish(events)
        for name in ("worker-1", "worker-2", "scheduler-1", "scheduler-2"):
            run.start(name)
        started = time.monotonic()
        done: list[float] = []
        closed: list[int] = []

        def tick() -> None:
            now = time.monotonic()
            if len(done) < kills and now - started > 3.0 and (not done or now - done[-1] > 1.0):
                listed = subprocess.run([*ctl, "list_connections", "-p", RABBITMQ_VHOST, "name"], capture_output=True,
                                        text=True, check=False)
                closed.append(len([line for line in listed.stdout.splitlines() if line.strip()]))
                subprocess.run([*ctl, "close_all_connections", "--vhost", RABBITMQ_VHOST, "tidings fault suite"],
                               capture_output=True, check=False)
                done.append(time.monotonic())
        seconds = run.wait(300, tick=tick)
        return {**run.counts(), "kills": len(done), "connections_closed": closed, **resumed(run, done),
                "seconds": round(seconds, 1)}


def flaky(events: int, *, keyless: bool = False, rate: float = 0.3, delivery: str = "at-least-once") -> dict[str, Any]:
    """A provider failing `rate` of the requests: 429, 503, a timeout before and one after acceptance."""
    provider = FaultyProvider(rate=rate, kinds=("429", "503", "timeout", "late"), keyless=keyless)
    with scenario(provider, delivery=delivery) as run:
        for name in ("worker-1", "worker-2", "scheduler-1"):
            run.start(name)
        run.publish(events)
        seconds = run.wait(600)
        return {**run.counts(), "seconds": round(seconds, 1)}


def race(events: int) -> dict[str, Any]:
    """Two schedulers and three workers started at once over `events` messages all due."""
    with scenario(FaultyProvider()) as run:
        run.start("worker-1")
        run.publish(events)
        deadline = time.monotonic() + 600
        while run.store.count_pending() < events and time.monotonic() < deadline:
            time.sleep(0.2)
        began = time.monotonic()
        for name in ("worker-2", "worker-3", "scheduler-1", "scheduler-2"):
            run.start(name)
        run.wait(900)
        return {**run.counts(), "seconds": round(time.monotonic() - began, 1)}


SCENARIOS: dict[str, tuple[str, str, Callable[[argparse.Namespace], dict[str, Any]]]] = {
    "worker-sigkill": ("worker SIGKILL mid-batch (JSON SMS, lookup by key)",
                       "SIGKILL of 1 of 2 workers at 1/3, restarted", lambda a: worker_sigkill(a.events)),
    "worker-sigkill-keyless": ("worker SIGKILL mid-batch (keyless provider, as SMTP)",
                               "SIGKILL of 1 of 2 workers at 1/3, restarted",
                               lambda a: worker_sigkill(a.events, keyless=True)),
    "worker-requeue": ("dead worker's message requeued", "request hangs, its worker SIGKILLed, another alive",
                       lambda a: worker_requeue()),
    "scheduler-sigkill": ("scheduler SIGKILL between claim and enqueue", "a process claims all due, then SIGKILL; 5 rounds",
                          lambda a: scheduler_sigkill(max(a.events // 10, 50), 5)),
    "redis-restart": ("Redis restarted (AOF on), due and pending reminders", "SIGTERM redis-server, 5 s down, start",
                      lambda a: redis_restart(a.events // 2)),
    "client-kill": ("Redis connections dropped under load", "CLIENT KILL TYPE normal, 8 times 1 s apart",
                    lambda a: client_kill(a.events)),
    "rabbitmq-kill": ("RabbitMQ connections dropped under load",
                      "events published, processes started, then rabbitmqctl close_all_connections (own vhost) 8 times "
                      "1 s apart while they drain", lambda a: rabbitmq_kill(a.events)),
    "flaky-30": ("provider failing 30 % transiently (JSON SMS, lookup by key)",
                 "429 / 503 / timeout before / timeout after acceptance", lambda a: flaky(a.events)),
    "flaky-30-keyless": ("provider failing 30 % transiently (keyless provider)",
                         "429 / 503 / timeout before / timeout after acceptance", lambda a: flaky(a.events, keyless=True)),
    "flaky-30-keyless-at-most-once": ("provider failing 30 % transiently (keyless, delivery = at-most-once)",
                                      "429 / 503 / timeout before / timeout after acceptance",
                                      lambda a: flaky(a.events, keyless=True, delivery="at-most-once")),
    "race": ("2 schedulers and 3 workers racing", "all due at once", lambda a: race(a.race_events)),
}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| fault | how injected | events | lost | duplicated | recovery / drain |", "|---|---|---|---|---|---|"]
    for row in rows:
        recovery = f"{row['recovery_s']} s" if row.get("recovery_s") is not None else f"drained in {row.get('seconds')} s"
        lines.append(f"| {row['fault']} | {row['injected_how']} | {row['events']} | {row['lost']} | {row['duplicated']} "
                     f"| {recovery} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--race-events", type=int, default=10_000)
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS), help="run only these (repeatable)")
    parser.add_argument("--json", type=Path, help="write every row's counts here")
    args = parser.parse_args()
    rows = []
    for name in args.only or list(SCENARIOS):
        fault, how, run = SCENARIOS[name]
        began = time.monotonic()
        row = {"scenario": name, "fault": fault, "injected_how": how, **run(args)}
        row["wall_s"] = round(time.monotonic() - began, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    knowable = [r for r in rows if "keyless" not in r["scenario"]]
    return 0 if all(r["lost"] == 0 for r in rows) and all(r["duplicated"] == 0 for r in knowable) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
