"""The measurements of the harness: each function is one run of one group of rows, tidings beside its reference.

Every function takes the `Bench` (the private Redis, the sink, sizes, a scratch folder) and returns a
dict of figures for that run; ``bench/harness.py`` repeats it, takes medians and prints the table.
Only public tidings APIs and commands are used (`tidings publish|worker|scheduler|simulate`,
`build_pipeline`, `RedisStore`), so the harness keeps measuring while the data path is rewritten.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import chain
from children import enqueue_pipelined, raw_message
from services import RedisServer, Sink

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TIDINGS = str(Path(sys.executable).with_name("tidings"))
CHILDREN = str(HERE / "children.py")
SCHEDULER_INTERVAL = "0.1"     # seconds between the scheduler's looks at the store when nothing was due
WORKER_THREADS = 8


@dataclass
class Sizes:
    """How big each measurement is; `scaled` multiplies them (``--scale``, ``--quick``)."""

    e2e_events: int = 3000
    slow_events: int = 800
    publish_events: int = 3000
    ingest_events: int = 3000
    short_days: int = 40            # about 10,000 events of the chain
    year_days: int = 365            # about 100,000
    locations: int = 10
    lag_seconds: float = 5.0        # the window over which messages fall due, at `lag_rate` a second
    lag_rate: int = 1000
    claim_slots: int = 1_000_000

    def scaled(self, factor: float) -> Sizes:
        def n(value: int, least: int) -> int:
            return max(least, round(value * factor))
        return Sizes(e2e_events=n(self.e2e_events, 20), slow_events=n(self.slow_events, 16),
                     publish_events=n(self.publish_events, 20), ingest_events=n(self.ingest_events, 20),
                     short_days=n(self.short_days, 1), year_days=n(self.year_days, 2), locations=self.locations,
                     lag_seconds=max(0.05, self.lag_seconds * factor), lag_rate=self.lag_rate,
                     claim_slots=n(self.claim_slots, 2000))


@dataclass
class Bench:
    """What every measurement shares: the private Redis, the sink, the sizes and a scratch folder."""

    redis: RedisServer
    sink: Sink
    sizes: Sizes
    folder: Path
    profile: Path | None = None       # where py-spy profiles go (first run of e2e, ingest, simulate)
    run: int = 0
    counter: int = 0
    facts: dict[str, Any] = field(default_factory=dict)   # figures one group leaves for another (the ingest rate)

    def namespace(self, what: str) -> str:
        self.counter += 1
        return f"b{self.counter}-{what}"[:40]

    def flush(self) -> None:
        """Empty our private Redis between measurements (it is ours alone)."""
        client = self.redis.client()
        client.flushdb()
        client.close()

    def profiling(self) -> Path | None:
        return self.profile if self.profile is not None and self.run == 0 else None


def log(text: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


class Process:
    """A child process whose output is read line by line in a thread; `ready` is when it said `word`."""

    def __init__(self, args: list[str], *, word: str, stream: str = "stderr", env: dict[str, str] | None = None) -> None:
        self.word = word
        self.ready_at: float | None = None
        self.ready = threading.Event()
        self.tail: list[str] = []
        out = subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL
        err = subprocess.PIPE if stream == "stderr" else subprocess.STDOUT if stream == "stdout" else subprocess.DEVNULL
        self.popen = subprocess.Popen(args, stdout=out, stderr=err, env={**os.environ, **(env or {})}, text=True)
        pipe = self.popen.stdout if stream == "stdout" else self.popen.stderr
        self.reader = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.reader.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            if self.ready_at is None and self.word in line:
                self.ready_at = time.time()
                self.ready.set()
            self.tail = [*self.tail[-20:], line.rstrip()]

    def wait_ready(self, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.1):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.popen.args[:3]} did not start: {' | '.join(self.tail[-5:])}")
        assert self.ready_at is not None
        return self.ready_at

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.reader.join(timeout=5)


def spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling a running process until it exits (``--nonblocking``: it is not paused to be read)."""
    return subprocess.Popen([str(Path(PYTHON).with_name("py-spy")), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "100", "--nonblocking", "-o", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spied(command: list[str], output: Path | None) -> list[str]:
    """`command`, under ``py-spy record`` when `output` is given."""
    if output is None:
        return command
    return [str(Path(PYTHON).with_name("py-spy")), "record", "--format", "raw", "--rate", "100", "-o", str(output),
            "--", *command]


def timed(command: list[str], *, timeout: float = 3600.0) -> float:
    """Run a command to its end; its wall-clock seconds, start-up included."""
    began = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} … failed ({done.returncode}): {done.stderr[-800:]}")
    return seconds


# ---------------------------------------------------------------- configurations

SMS_CONFIG = """
[tidings]
timezone = "Europe/Warsaw"
broker = "{redis}"
store = "{redis}"
namespace = "{namespace}"
lease = "1m"

[plugins]
channels = ["sms"]
triggers = ["status-change", "pre-visit"]

[channels.sms]
provider = "json"
url = "{url}"
sender = "Tidings"
default_region = "PL"
body = {{ to = "{{to}}", from = "{{sender}}", text = "{{text}}" }}
lookup_url = "{url}/{{idempotency_key}}"

{rules}
[templates.booked]
sms = "Booked: {{{{ subject.id }}}}"

[templates.reminder]
sms = "Reminder: {{{{ subject.id }}}}"
"""

# one immediate SMS per created, confirmed visit (rows 1 and 8)
BOOKED_RULE = """
[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
to = ["confirmed"]
channel = "sms"
template = "booked"
"""

# one reminder an hour before each pending visit, sent even if its time passed while it was planned (row 6)
REMINDER_RULE = """
[[rules]]
id = "reminder"
trigger = "pre-visit"
before = "1h"
statuses = ["pending"]
late = "send"
channel = "sms"
template = "reminder"
"""


def sms_config(bench: Bench, namespace: str, *, rule: str = BOOKED_RULE) -> Path:
    """A configuration with one rule whose SMS go to the sink, on the private Redis under `namespace`."""
    path = bench.folder / f"{namespace}.toml"
    path.write_text(SMS_CONFIG.format(redis=bench.redis.url, url=bench.sink.url, namespace=namespace, rules=rule))
    return path


def booking(n: int, *, tag: str, status: str = "confirmed", start: datetime | None = None,
            occurred: datetime | None = None) -> dict[str, Any]:
    """A created visit: one immediate "Booked" SMS (confirmed) or one reminder an hour before `start` (pending)."""
    occurred = occurred or datetime.now(timezone.utc)
    start = start or datetime(2030, 1, 1, 10, tzinfo=timezone.utc)
    return {"id": f"{tag}-evt-{n}", "type": "appointment.created", "occurred_at": occurred.isoformat(),
            "subject": {"id": f"{tag}-{n}", "status": status, "start": start.isoformat(),
                        "client": {"id": f"{tag}-c-{n}", "name": "Client", "phone": f"+4860{n % 10_000_000:07d}",
                                   "consents": {"sms": True}}}}


def publisher(config: Path) -> Any:
    """A pipeline that publishes to the configured broker (its actors are declared, nothing consumes here)."""
    from tidings.config import load_config
    from tidings.pipeline import build_pipeline, open_broker
    from tidings.store import open_store

    cfg = load_config(config)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    return build_pipeline(open_broker(cfg.tidings.broker), cfg, store, transports={})


def tidings_processes(config: Path, *, profile: Path | None = None) -> tuple[Process, Process, float]:
    """A `tidings scheduler` and a `tidings worker` (8 threads); returns them and when the worker was consuming."""
    scheduler = Process([TIDINGS, "scheduler", "--config", str(config), "--interval", SCHEDULER_INTERVAL],
                        word="scheduler_started")
    worker = Process([TIDINGS, "worker", "--config", str(config), "--threads", str(WORKER_THREADS)], word="worker_started")
    try:
        scheduler.wait_ready()
        began = worker.wait_ready()
        if profile is not None:
            spy(worker.popen.pid, profile)
    except BaseException:
        worker.stop()   # not left running when one did not start or py-spy is missing
        scheduler.stop()
        raise
    return scheduler, worker, began


def redis_commands(bench: Bench) -> tuple[int, int]:
    """Commands our Redis has processed so far (Lua scripts' own commands included), and script calls among them."""
    client = bench.redis.client()
    try:
        total = int(client.info("stats")["total_commands_processed"])
        stats = client.info("commandstats")
        scripts = sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))
        return total, scripts
    finally:
        client.close()


class Counting:
    """The Redis commands and script calls between `__enter__` and `__exit__`, per message (``per(n)``)."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench

    def __enter__(self) -> Counting:
        self.before = redis_commands(self.bench)
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = redis_commands(self.bench)

    def per(self, n: int) -> tuple[float, float]:
        return ((self.after[0] - self.before[0]) / n, (self.after[1] - self.before[1]) / n)


def rate_at_sink(sink: Sink, count: int, began: float, *, what: str) -> float:
    """Messages a second from `began` (the consumer ready) to the last answer, once all `count` arrived."""
    if not sink.wait_for(count, timeout=max(120.0, count / 10)):
        raise RuntimeError(f"{what}: only {sink.count()} of {count} messages reached the sink")
    deadline = time.monotonic() + 5
    while len(sink.answered) < count and time.monotonic() < deadline:   # the last answers are on their way
        time.sleep(0.01)
    return count / max(sink.last_answer() - began, 1e-6)


def tidings_deliveries(bench: Bench, count: int, *, latency: float, profile: Path | None = None) -> float:
    """Deliveries a second: `count` events published, then a worker and a scheduler deliver one SMS each.

    The Redis commands the worker and the scheduler sent per message are left in ``bench.facts``.
    """
    namespace = bench.namespace("e2e")
    config = sms_config(bench, namespace)
    pipeline = publisher(config)
    for n in range(count):
        pipeline.publish(booking(n, tag=namespace))
    pipeline.broker.close()
    pipeline.store.close()
    bench.sink.reset(latency=latency)
    with Counting(bench) as counting:
        scheduler, worker, began = tidings_processes(config, profile=profile)
        try:
            return rate_at_sink(bench.sink, count, began, what="tidings")
        finally:
            worker.stop()
            scheduler.stop()
            bench.facts["commands"] = counting


def raw_deliveries(bench: Bench, count: int, *, latency: float) -> float:
    """The same with raw Dramatiq: one process, 8 threads, one keep-alive POST per message."""
    from dramatiq.brokers.redis import RedisBroker

    queue = bench.namespace("raw")
    broker = RedisBroker(url=bench.redis.url)
    broker.declare_queue(queue)
    enqueue_pipelined(broker, (raw_message(queue, to=f"+4860{n:07d}", text=f"Booked: {queue}-{n}", key=f"{queue}-{n}")
                               for n in range(count)))
    broker.close()
    bench.sink.reset(latency=latency)
    with Counting(bench) as counting:
        worker = Process([PYTHON, CHILDREN, "raw-worker", "--redis", bench.redis.url, "--queue", queue,
                          "--sink", bench.sink.url, "--threads", str(WORKER_THREADS)], word="ready", stream="stdout")
        try:
            return rate_at_sink(bench.sink, count, worker.wait_ready(), what="raw Dramatiq")
        finally:
            worker.stop()
            bench.facts["commands"] = counting


def apprise_deliveries(bench: Bench, count: int) -> float:
    """Apprise ``json://`` to the sink from one thread."""
    bench.sink.reset(latency=0.0)
    sender = Process([PYTHON, CHILDREN, "apprise", "--sink", bench.sink.url, "--count", str(count)],
                     word="ready", stream="stdout")
    try:
        return rate_at_sink(bench.sink, count, sender.wait_ready(), what="Apprise")
    finally:
        sender.stop()


# ---------------------------------------------------------------- the groups


def end_to_end(bench: Bench) -> dict[str, float]:
    """Row 1: events → immediate SMS at the sink; raw Dramatiq and Apprise to the same sink."""
    n = bench.sizes.e2e_events
    profile = bench.profiling()
    out = {"tidings": tidings_deliveries(bench, n, latency=0.0, profile=profile / "e2e-worker.txt" if profile else None)}
    out["redis_commands"], out["redis_scripts"] = bench.facts.pop("commands").per(n)
    out["raw"] = raw_deliveries(bench, n, latency=0.0)
    out["raw_redis_commands"], _ = bench.facts.pop("commands").per(n)
    out["apprise"] = apprise_deliveries(bench, n)
    bench.flush()
    return out


def slow_sink(bench: Bench) -> dict[str, float]:
    """Row 8: the same against a sink that answers after 100 ms, per worker process."""
    n = bench.sizes.slow_events
    out = {"tidings": tidings_deliveries(bench, n, latency=0.1), "raw": raw_deliveries(bench, n, latency=0.1)}
    bench.facts.pop("commands", None)
    bench.sink.reset(latency=0.0)
    bench.flush()
    return out


def _queued(bench: Bench, queue: str) -> int:
    client = bench.redis.client()
    try:
        return int(client.hlen(f"dramatiq:{queue}.msgs"))
    finally:
        client.close()


def publish(bench: Bench) -> dict[str, float]:
    """Row 2: `tidings publish` of N events, start-up included; Dramatiq send() one by one and pipelined."""
    n = bench.sizes.publish_events
    namespace = bench.namespace("pub")
    events = bench.folder / f"{namespace}.jsonl"
    with events.open("w") as out:
        for i in range(n):
            out.write(json.dumps(booking(i, tag=namespace)) + "\n")
    config = sms_config(bench, namespace)
    out = {"tidings": n / timed([TIDINGS, "publish", "--config", str(config), str(events)])}
    for mode in ("one", "pipelined"):
        queue = f"{namespace}-{mode}"
        out[mode] = n / timed([PYTHON, CHILDREN, "send", "--redis", bench.redis.url, "--queue", queue,
                               "--events", str(events), "--mode", mode])
        if _queued(bench, queue) != n:
            raise RuntimeError(f"Dramatiq send ({mode}) queued {_queued(bench, queue)} of {n} messages")
    if _queued(bench, namespace) != n:
        raise RuntimeError(f"tidings publish queued {_queued(bench, namespace)} of {n} events")
    bench.flush()
    return out


def chain_files(bench: Bench, days: int, *, store: str = "memory://", namespace: str = "tidings",
                extra: str = "") -> tuple[Path, Path, int]:
    folder = bench.folder / f"chain-{days}"
    config, events, count = folder / "config.toml", folder / "events.jsonl", 0
    if not events.exists():
        _, _, count = chain.write(folder, days=days, locations=bench.sizes.locations)
    else:
        with events.open() as lines:
            count = sum(1 for _ in lines)
    custom = folder / f"{namespace}.toml"
    custom.write_text(chain.config_toml(locations=bench.sizes.locations, store=store, namespace=namespace, extra=extra))
    return (custom if (store, namespace, extra) != ("memory://", "tidings", "") else config), events, count


def key_bytes(client: Any, prefix: str) -> dict[str, int]:
    """``MEMORY USAGE`` (exact) of every key under `prefix`, summed by the key's family (its first name)."""
    families: dict[str, int] = {}
    keys = list(client.scan_iter(match=f"{prefix}*", count=2000))
    for start in range(0, len(keys), 1000):
        batch = keys[start:start + 1000]
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        for key, size in zip(batch, pipe.execute()):
            family = key[len(prefix):].split(":")[0]
            families[family] = families.get(family, 0) + int(size or 0)
    return families


def sorted_set_bytes(client: Any, count: int) -> float:
    """The reference schedule: a sorted set of slot ids by due time and a hash of 300-byte payloads; bytes per entry."""
    count = max(count, 1000)
    due, payloads = "ref:due", "ref:payloads"
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        slot = f"reminder-24h|subject:visit-{100000 + i}|client"
        pipe.zadd(due, {slot: 1_800_000_000 + 60 * i})
        pipe.hset(payloads, slot, "x" * 300)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    size = int(client.memory_usage(due, samples=0) or 0) + int(client.memory_usage(payloads, samples=0) or 0)
    client.delete(due, payloads)
    return size / count


def ingest(bench: Bench) -> dict[str, float]:
    """Rows 3 and 5: ingest of the chain's events via the Python API into the Redis store; then its memory."""
    n = bench.sizes.ingest_events
    namespace = bench.namespace("ingest")
    config, events, _ = chain_files(bench, bench.sizes.short_days, store=bench.redis.url, namespace=namespace)
    result = bench.folder / f"{namespace}.json"
    profile = bench.profiling()
    client = bench.redis.client()
    before = int(client.info("memory")["used_memory"])
    with Counting(bench) as counting:
        timed(spied([PYTHON, CHILDREN, "ingest", "--config", str(config), "--events", str(events), "--count", str(n),
                     "--out", str(result)], profile / "ingest.txt" if profile else None))
    measured = json.loads(result.read_text())
    used = int(client.info("memory")["used_memory"]) - before
    families = key_bytes(client, f"{namespace}:")
    from tidings.store.redis import RedisStore
    store = RedisStore(client, prefix=f"{namespace}:")
    pending = store.count_pending()
    total = sum(families.values())
    out = {"tidings": measured["events"] / measured["seconds"], "pending": pending, "events": measured["events"],
           "bytes_total": total, "used_memory_delta": used,
           "bytes_per_pending": total / max(pending, 1), "bytes_per_event": total / measured["events"],
           "redis_commands": counting.per(measured["events"])[0], "redis_scripts": counting.per(measured["events"])[1],
           **{f"bytes:{k}": v for k, v in sorted(families.items())}}
    out["reference_bytes"] = sorted_set_bytes(client, pending)
    client.close()
    bench.facts["ingest_rate"] = out["tidings"]
    noop_out = bench.folder / f"{namespace}-noop.json"
    timed([PYTHON, CHILDREN, "noop", "--redis", bench.redis.url, "--queue", f"{namespace}-noop", "--count", str(n),
           "--threads", str(WORKER_THREADS), "--out", str(noop_out)])
    drained = json.loads(noop_out.read_text())
    out["noop"] = drained["messages"] / drained["seconds"]
    bench.flush()
    return out


def simulate_short(bench: Bench) -> dict[str, float]:
    """Row 4: `tidings simulate` of the chain's first ~10,000 events (start-up included)."""
    return _simulate(bench, bench.sizes.short_days, profile=bench.profiling())


def simulate_year(bench: Bench) -> dict[str, float]:
    """Row 4: the same for a year (~100,000 events)."""
    return _simulate(bench, bench.sizes.year_days, profile=None)


def _simulate(bench: Bench, days: int, *, profile: Path | None) -> dict[str, float]:
    config, events, count = chain_files(bench, days)
    seconds = timed(spied([TIDINGS, "simulate", "--config", str(config), "--events", str(events), "--output", os.devnull],
                          profile / f"simulate-{days}d.txt" if profile else None))
    return {"tidings": seconds, "events": count}


def retention_available() -> bool:
    """Whether this tidings has the ``[tidings] retention`` setting (the harness is ready for it before it exists)."""
    from tidings.config import Settings
    import attrs

    return any(a.name == "retention" for a in attrs.fields(Settings))


def growth(bench: Bench) -> dict[str, float | None]:
    """Row 5: Redis bytes after a simulated year at constant load, over the bytes after three months.

    tidings with ``retention = "90d"`` (when the setting exists), beside the same year without it.
    """
    # the reference keeps everything for longer than the year (retention is 90 days by default)
    out: dict[str, float | None] = {"reference": _growth(bench, retention="3650d" if retention_available() else None)}
    out["tidings"] = _growth(bench, retention="90d") if retention_available() else None
    bench.flush()
    return out


def _growth(bench: Bench, *, retention: str | None) -> float:
    from tidings.config import load_config
    from tidings.models import Event
    from tidings.simulate import Simulation
    from tidings.store.redis import RedisStore

    namespace = bench.namespace("growth")
    extra = f'retention = "{retention}"' if retention else ""
    config, events, _ = chain_files(bench, bench.sizes.year_days, namespace=namespace, extra=extra)
    client = bench.redis.client()
    store = RedisStore(client, prefix=f"{namespace}:")
    sim = Simulation(load_config(config), store=store)
    quarter = datetime.combine(chain.START + timedelta(days=max(1, bench.sizes.year_days // 4)),
                               datetime.min.time(), timezone.utc)
    at_quarter: int | None = None
    last = None
    try:
        with events.open() as lines:
            for line in lines:
                event = Event.from_json(line)
                if at_quarter is None and event.occurred_at >= quarter:
                    sim.advance(quarter)
                    at_quarter = sum(key_bytes(client, store.prefix).values())
                sim.feed(event)
                last = event.occurred_at
        if last is not None:
            sim.advance(last)
    finally:
        sim.close()
    at_end = sum(key_bytes(client, store.prefix).values())
    client.close()
    return at_end / max(at_quarter or at_end, 1)


def lag(bench: Bench) -> dict[str, float]:
    """Row 6: due-to-send lag while `lag_rate` messages a second fall due over a window.

    Pending visits are ingested (Python API, the same Redis store) with reminders due one after the
    other at `lag_rate` a second, starting once the ingest is surely done; a scheduler and a worker are
    already running. The lag of a message is its arrival at the sink minus its due time.
    """
    sizes = bench.sizes
    count = max(2, round(sizes.lag_seconds * sizes.lag_rate))
    namespace = bench.namespace("lag")
    config = sms_config(bench, namespace, rule=REMINDER_RULE)
    bench.sink.reset(latency=0.0)
    scheduler, worker, _ = tidings_processes(config)
    try:
        from tidings.config import load_config
        from tidings.pipeline import build_pipeline
        from tidings.store import open_store

        cfg = load_config(config)
        pipeline = build_pipeline(None, cfg, open_store(cfg.tidings.store, namespace=namespace), transports={})
        rate = bench.facts.get("ingest_rate") or 100.0
        setup = count / rate
        first_due = time.time() + 1.5 * setup + 2.0
        due = {}
        for n in range(count):
            at = first_due + n / sizes.lag_rate
            due[f"Reminder: {namespace}-{n}"] = at
            pipeline.publish(booking(n, tag=namespace, status="pending",
                                     start=datetime.fromtimestamp(at, timezone.utc) + timedelta(hours=1)))
        overran = time.time() > first_due
        pipeline.store.close()
        # the Redis commands of the dispatch alone (scheduler and worker): counted from the first due time,
        # when every visit was ingested, to the last arrival
        time.sleep(max(0.0, first_due - time.time()))
        with Counting(bench) as counting:
            if not bench.sink.wait_for(count, timeout=max(120.0, first_due - time.time() + count / 10)):
                raise RuntimeError(f"lag: only {bench.sink.count()} of {count} reminders reached the sink")
    finally:
        worker.stop()
        scheduler.stop()
    lags = sorted(at - due[text] for at, text in bench.sink.arrivals())
    bench.flush()
    commands, scripts = counting.per(count)
    return {"p50": statistics.median(lags), "p99": lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))],
            "messages": count, "setup_overran": float(overran), "dispatch_redis_commands": commands,
            "dispatch_redis_scripts": scripts}


# a plain lease-claim on a sorted set: what `claim_due` does, without versions and payloads
_CLAIM_REFERENCE = """
local slots = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, slot in ipairs(slots) do
  redis.call('ZADD', KEYS[1], ARGV[2], slot)
end
return slots
"""
CLAIM_LIMIT = 500        # what the scheduler asks for at a time (`Pipeline.enqueue_due`)
CLAIM_LEASE = timedelta(minutes=5)


class ClaimSetup:
    """The due slots, scheduled once through `RedisStore.schedule` and claimed again on every run.

    A claimed slot is re-scored to its lease's end, so a run that claims at a time past every lease finds
    them all due again: each run claims the same slots, with the same work.
    """

    def __init__(self, bench: Bench) -> None:
        from tidings.store.redis import RedisStore

        self.count = bench.sizes.claim_slots
        self.client = bench.redis.client()
        self.store = RedisStore(self.client, prefix=f"{bench.namespace('claim')}:")
        self.now = datetime.now(timezone.utc)
        log(f"scheduling {self.count:,} due slots for the claim rate")
        past = self.now - timedelta(days=1)

        from tidings.store.records import EventRef, PendingMessage

        def schedule(part: range) -> None:
            for i in part:
                message = PendingMessage(
                    rule="reminder-24h", subject=f"visit-{i}", kind="appointment", location="loc-01", recipient="client",
                    due=past, planned=past, key=f"{i:040d}", suspended=False, info={"start": past.isoformat()},
                    services=None, event=EventRef(id=f"evt-{i}", type="appointment.created", occurred_at=past),
                    previous=None)
                self.store.schedule(f"reminder-24h|subject:visit-{i}|client", send_at=past + timedelta(milliseconds=i),
                                    message=message)

        step = max(1, self.count // 8)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(schedule, [range(s, min(s + step, self.count)) for s in range(0, self.count, step)]))
        self.reference = self.client.register_script(_CLAIM_REFERENCE)
        pipe = self.client.pipeline(transaction=False)
        for i in range(self.count):
            pipe.zadd("ref:due", {f"reminder-24h|subject:visit-{i}|client": past.timestamp() + i / 1000})
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        self.round = 0

    def sweep(self, claim: Callable[[datetime], int]) -> float:
        self.round += 1
        at = self.now + self.round * (CLAIM_LEASE + timedelta(minutes=1))
        claimed = 0
        began = time.perf_counter()
        while (got := claim(at)) > 0:
            claimed += got
        seconds = time.perf_counter() - began
        if claimed != self.count:
            raise RuntimeError(f"claimed {claimed} of {self.count} due slots")
        return claimed / seconds

    def close(self) -> None:
        self.client.flushdb()
        self.client.close()


def claim(bench: Bench) -> dict[str, float]:
    """Row 7: `claim_due` of every due slot, 500 at a time; the reference claims a bare sorted set alike."""
    setup = bench.facts.get("claim")
    if setup is None:
        setup = bench.facts["claim"] = ClaimSetup(bench)
    tidings = setup.sweep(lambda at: len(setup.store.claim_due(at, limit=CLAIM_LIMIT, lease=CLAIM_LEASE)))
    reference = setup.sweep(lambda at: len(setup.reference(keys=["ref:due"], args=[
        repr(at.timestamp()), repr(at.timestamp() + CLAIM_LEASE.total_seconds()), CLAIM_LIMIT])))
    return {"tidings": tidings, "reference": reference}
