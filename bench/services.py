"""The services a benchmark runs against: a private `redis-server` and a local HTTP SMS sink.

Both live only as long as the benchmark: the Redis is started on a spare port (never the shared 6379)
and stopped by its PID; the sink is a keep-alive HTTP/1.1 server on 127.0.0.1 in a thread of the
calling process. Used by ``bench/harness.py`` and ``bench/crash_test.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tidings.testing import services as testing_services


def spare_port() -> int:
    """A spare port on 127.0.0.1, within ``TIDINGS_BENCH_PORTS`` (``LOW-HIGH``) when it is set."""
    return testing_services.spare_port("TIDINGS_BENCH_PORTS")


class RedisServer:
    """A `redis-server` of our own on a spare port, without persistence; `stop` ends it by its PID.

    Use as a context manager, or call `start` and `stop`. The database is ours alone, so flushing it is fine.
    """

    def __init__(self, *, maxmemory: str | None = None, appendonly: bool = False) -> None:
        self.port = spare_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.folder = Path(tempfile.mkdtemp(prefix="tidings-bench-redis-"))
        self.maxmemory = maxmemory
        self.appendonly = appendonly   # an append-only file in `folder`: what a restart keeps

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, *, timeout: float = 15.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes" if self.appendonly else "no",
                "--dir", str(self.folder)]
        if self.maxmemory:
            args += ["--maxmemory", self.maxmemory]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def client(self, *, decode: bool = True) -> Any:
        import redis

        return redis.Redis.from_url(self.url, decode_responses=decode)

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop it by its PID (SIGTERM: with `appendonly` it writes its file); `keep_data` to start it again."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        if not keep_data:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Sink:
    """A JSON SMS API on 127.0.0.1 that records when each message arrived, optionally answering late.

    It speaks the protocol of `tidings.testing.LocalJsonProvider`: ``POST /messages`` with a JSON body and
    an ``Idempotency-Key`` header delivers once per key (201 and ``{"id": ...}``; a key seen before gets
    200 and the same id and is not counted again); ``GET /messages/KEY`` answers 200 with the id, or 404.
    A POST without the header (Apprise's ``json://``) is always a new delivery.

    Each connection has its own thread and the `latency` is slept in it, so a slow answer does not
    serialise the clients: hundreds of connections can wait at once, as they would on a real provider.
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.reset()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
            # client's delayed ACK would hold every answer for ~40 ms, and the sink would be the benchmark
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                at = time.time()
                try:
                    message = json.loads(raw) if raw else {}
                except ValueError:
                    self.reply(400, {"error": "the body is not JSON"})
                    return
                key = self.headers.get("Idempotency-Key")
                with sink.arrived:
                    sink.posts[key or ""] += 1
                    answer = sink.ids.get(key) if key else None
                    replay = answer is not None
                    if not replay:
                        answer = f"m-{len(sink.times) + 1}"
                        if key:
                            sink.ids[key] = answer
                        text = message.get("text", message.get("message")) if isinstance(message, dict) else None
                        sink.times.append(at)
                        sink.texts.append(str(text))
                        sink.arrived.notify_all()
                if sink.latency:
                    time.sleep(sink.latency)
                if not replay:
                    with sink.lock:
                        sink.answered.append(time.time())
                self.reply(200 if replay else 201, {"id": answer})

            def do_GET(self) -> None:
                key = self.path.rsplit("/", 1)[-1]
                with sink.lock:
                    answer = sink.ids.get(key)
                    sink.lookups["found" if answer else "missing"] += 1
                if sink.latency:
                    time.sleep(sink.latency)
                self.reply(200, {"id": answer}) if answer else self.reply(404, {"error": "not found"})

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024     # the listen backlog: hundreds of clients may connect at once

            def handle_error(self, request: Any, client_address: Any) -> None:
                # a client that is stopped drops its keep-alive connection: that is the end of a run, not an error
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/messages"

    def reset(self, *, latency: float | None = None) -> None:
        """Forget every delivery (and set a new latency): the start of a measurement."""
        with self.lock:
            self.times: list[float] = []          # wall-clock arrival of each delivered message
            self.answered: list[float] = []       # when each was answered (after the latency)
            self.texts: list[str] = []            # its text, in the same order
            self.posts: Counter[str] = Counter()  # POSTs per idempotency key ("" for none)
            self.lookups: Counter[str] = Counter()
            self.ids: dict[str, str] = {}
            if latency is not None:
                self.latency = latency

    def count(self) -> int:
        with self.lock:
            return len(self.times)

    def wait_for(self, count: int, *, timeout: float) -> bool:
        """Wait until `count` messages have arrived; False when `timeout` seconds passed first."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(min(left, 0.5))
        return True

    def last_answer(self) -> float:
        """When the last delivered message was answered: the end of a throughput measurement."""
        with self.lock:
            return max(self.answered, default=0.0)

    def arrivals(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(zip(self.times, self.texts))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
