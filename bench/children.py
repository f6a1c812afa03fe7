"""The processes the harness starts for its references, and for the measurements that need one of their own.

Each subcommand is one process of a measurement, run by ``bench/harness.py``:

- ``raw-worker``: raw Dramatiq, one process with N threads, an actor that makes one keep-alive POST
  (``http.client``, one connection per thread) to the sink per message. Prints ``ready`` when consuming.
- ``apprise``: Apprise ``json://`` to the sink, one thread, N notifications. Prints ``ready`` first.
- ``send``: Dramatiq ``send()`` of every line of a JSON-lines file, one by one or pipelined.
- ``ingest``: tidings' ingest through the Python API (no broker, the configured store), timed in-process,
  with the library's logging as it is by default (the harness sends stdout to /dev/null).
- ``noop``: how fast one Dramatiq worker process drains no-op messages.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

RAW_ACTOR = "bench_post"
NOOP_ACTOR = "bench_noop"
INGEST_ACTOR = "tidings_ingest"     # the name `tidings publish` sends to, so the messages are alike


def redis_broker(url: str) -> Any:
    from dramatiq.brokers.redis import RedisBroker

    return RedisBroker(url=url)


def enqueue_pipelined(broker: Any, messages: Iterable[Any], *, batch: int = 500) -> int:
    """Enqueue Dramatiq messages on a `RedisBroker` in pipelined batches: what `broker.enqueue` does, minus a round trip each.

    Dramatiq has no batch enqueue; this runs its own ``dispatch`` script (the ``enqueue`` command, with the
    arguments `RedisBroker` passes) through a redis-py pipeline. Middleware ``enqueue`` hooks are not called.
    """
    from dramatiq.common import current_millis

    dispatch = broker.scripts["dispatch"]
    count = 0
    pipe = broker.client.pipeline(transaction=False)
    for message in messages:
        message = message.copy(options={"redis_message_id": str(uuid4())})
        dispatch(keys=[broker.namespace], client=pipe,
                 args=["enqueue", current_millis(), message.queue_name, broker.broker_id, broker.heartbeat_timeout,
                       broker.dead_message_ttl, 0, broker._max_unpack_size(), message.options["redis_message_id"],
                       message.encode()])
        count += 1
        if count % batch == 0:
            pipe.execute()
    pipe.execute()
    return count


def raw_message(queue: str, *, to: str, text: str, key: str) -> Any:
    from dramatiq import Message

    return Message(queue_name=queue, actor_name=RAW_ACTOR, args=(to, text, key), kwargs={}, options={})


def _stop_on_term() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def raw_worker(args: argparse.Namespace) -> None:
    import http.client

    import dramatiq
    from dramatiq import Worker

    broker = redis_broker(args.redis)
    target = urlsplit(args.sink)
    local = threading.local()

    def post(to: str, text: str, key: str) -> None:
        body = json.dumps({"to": to, "from": "Tidings", "text": text}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        for attempt in (1, 2):
            connection = getattr(local, "connection", None)
            if connection is None:
                connection = local.connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request("POST", target.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    raise RuntimeError(f"the sink answered {response.status}")
                return
            except (OSError, http.client.HTTPException):
                connection.close()
                local.connection = None
                if attempt == 2:
                    raise

    dramatiq.actor(post, broker=broker, actor_name=RAW_ACTOR, queue_name=args.queue, max_retries=3, min_backoff=100)
    stop = _stop_on_term()
    broker.emit_after("process_boot")
    worker = Worker(broker, worker_threads=args.threads)
    worker.start()
    print("ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()


def apprise_sender(args: argparse.Namespace) -> None:
    import apprise

    target = urlsplit(args.sink)
    notifier = apprise.Apprise()
    if not notifier.add(f"json://{target.hostname}:{target.port}{target.path}"):
        raise SystemExit("apprise refused the json:// URL")
    print("ready", flush=True)
    failed = 0
    for i in range(args.count):
        if not notifier.notify(body=f"{args.tag} {i}", title="Reminder"):
            failed += 1
    if failed:
        raise SystemExit(f"apprise reported {failed} failed notifications")


def send(args: argparse.Namespace) -> None:
    import dramatiq

    broker = redis_broker(args.redis)
    actor = dramatiq.actor(lambda event: None, broker=broker, actor_name=INGEST_ACTOR, queue_name=args.queue)
    with open(args.events, encoding="utf-8") as lines:
        if args.mode == "one":
            for line in lines:
                if line.strip():
                    actor.send(json.loads(line))
        else:
            enqueue_pipelined(broker, (actor.message(json.loads(line)) for line in lines if line.strip()))
    broker.close()


def ingest(args: argparse.Namespace) -> None:
    from tidings.config import load_config
    from tidings.pipeline import build_pipeline
    from tidings.store import open_store

    config = load_config(args.config)
    store = open_store(config.tidings.store, namespace=config.tidings.namespace)
    pipeline = build_pipeline(None, config, store, transports={})
    with open(args.events, encoding="utf-8") as lines:
        events = [json.loads(line) for line, _ in zip(lines, range(args.count))]
    began = time.perf_counter()
    for event in events:
        pipeline.publish(event)
    seconds = time.perf_counter() - began
    store.close()
    Path(args.out).write_text(json.dumps({"events": len(events), "seconds": seconds}))


def noop(args: argparse.Namespace) -> None:
    import dramatiq
    from dramatiq import Worker

    broker = redis_broker(args.redis)
    done = threading.Event()
    lock = threading.Lock()
    seen = [0]

    def nothing(n: int) -> None:
        with lock:
            seen[0] += 1
            if seen[0] >= args.count:
                done.set()

    actor = dramatiq.actor(nothing, broker=broker, actor_name=NOOP_ACTOR, queue_name=args.queue)
    enqueue_pipelined(broker, (actor.message(n) for n in range(args.count)))
    broker.emit_after("process_boot")
    worker = Worker(broker, worker_threads=args.threads)
    began = time.perf_counter()
    worker.start()
    finished = done.wait(timeout=args.timeout)
    seconds = time.perf_counter() - began
    worker.stop()
    broker.close()
    if not finished:
        raise SystemExit(f"only {seen[0]} of {args.count} no-op messages were drained in {args.timeout} s")
    Path(args.out).write_text(json.dumps({"messages": args.count, "seconds": seconds}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("raw-worker")
    p.add_argument("--redis", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--sink", required=True)
    p.add_argument("--threads", type=int, default=8)
    p.set_defaults(run=raw_worker)
    p = commands.add_parser("apprise")
    p.add_argument("--sink", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tag", default="apprise")
    p.set_defaults(run=apprise_sender)
    p = commands.add_parser("send")
    p.add_argument("--redis", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--mode", choices=["one", "pipelined"], required=True)
    p.set_defaults(run=send)
    p = commands.add_parser("ingest")
    p.add_argument("--config", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=ingest)
    p = commands.add_parser("noop")
    p.add_argument("--redis", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--out", required=True)
    p.set_defaults(run=noop)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    sys.exit(main())
