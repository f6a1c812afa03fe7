"""What the process tests share: `tidings` commands run as real processes, their JSON logs read back, and polling.

Fixtures:
    processes: ``processes(name, *args)`` starts ``python -m tidings.cli --log-json --log-level warning *args``
        with its stderr (the log) and stdout in files of the test's own; each is killed after the test.
    until: ``until(condition, within=120, what=...)`` polls until the condition holds, or fails the test.
    events_file: ``events_file(name, numbers)`` writes the booking events of those numbers, one per line.
    restartable_redis: a redis-server of the test's own with AOF on, to stop (by PID) and start again on its port.
    deployment: a configuration on `restartable_redis` sending an SMS per booking to the local JSON provider.
    rabbitmq_proxy: a `TcpProxy` in front of the shared RabbitMQ, to cut and restore, and the broker URL through it.
    redis_proxy: a `TcpProxy` in front of `restartable_redis`, and the Redis URL through it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tidings.testing import LocalJsonProvider, PrivateRedis, running
from tidings.testing.deployments import booking_sms_config



def event(n: int) -> str:
    return json.dumps({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                       "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-03-10T14:00:00+01:00",
                                   "client": {"id": f"c-{n}", "phone": f"600100{n:03d}", "consents": {"sms": True}}}})


def poll(condition: Callable[[], Any], *, within: float = 120, what: str = "") -> Any:
    """Poll `condition` until it is true (returned) or `within` seconds pass (the test fails naming `what`)."""
    deadline = time.monotonic() + within
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within} s: {what}")
        time.sleep(0.05)
    return result


class Process:
    """A `tidings` command run as a real process, its JSON log lines (stderr) in a file."""

    def __init__(self, folder: Path, name: str, *args: str) -> None:
        self.log_path = folder / f"{name}.log"
        self.out_path = folder / f"{name}.out"
        self._err: IO[bytes] = self.log_path.open("wb")
        self._out: IO[bytes] = self.out_path.open("wb")
        self.popen = subprocess.Popen([sys.executable, "-m", "tidings.cli", "--log-json", "--log-level", "warning", *args],
                                      stdout=self._out, stderr=self._err, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def lines(self) -> list[dict[str, Any]]:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def events(self) -> list[str]:
        return [line.get("event", "") for line in self.lines()]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.alive():
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=60)
        finally:
            self._err.close()
            self._out.close()


@pytest.fixture
def deployment(restartable_redis: PrivateRedis, local_json_provider: LocalJsonProvider, tmp_path: Path) -> Path:
    config = tmp_path / "tidings.toml"
    config.write_text(booking_sms_config(store=restartable_redis.url, url=local_json_provider.url, tidings='namespace = "outages"'), encoding="utf-8")
    return config


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def start(name: str, *args: str) -> Process:
        started.append(Process(tmp_path, name, *args))
        return started[-1]

    yield start
    for process in started:
        process.stop(signal.SIGKILL)


def write_events(path: Path, numbers: range) -> Path:
    path.write_text("".join(event(n) + "\n" for n in numbers), encoding="utf-8")
    return path


@pytest.fixture
def until() -> Callable[..., Any]:
    return poll


@pytest.fixture
def events_file(tmp_path: Path) -> Callable[[str, range], Path]:
    return lambda name, numbers: write_events(tmp_path / name, numbers)


@pytest.fixture
def restartable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    with running(PrivateRedis(folder=tmp_path_factory.mktemp("redis"), appendonly=True)) as server:
        yield server


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of a server, to cut (every connection dropped, new ones refused) and restore.

    It stands for a network outage of a server the test must not stop itself (the shared RabbitMQ), and
    for a connection killed at a chosen moment (`refuse_next`, `lose_next_reply`), as ``CLIENT KILL`` under load.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refuse = 0          # connections still to be closed once they passed `_refuse_after` answers
        self._refuse_after = 0
        self._lose_reply: int | None = None   # answers still to pass before one is dropped (its connection closed)
        self.refused = 0
        self.lost_replies = 0
        self.answers = 0   # answers (reads of the server's side) passed to clients

    def refuse_next(self, count: int, *, after: int = 0) -> None:
        """Close each of the next `count` connections once the server sent `after` answers on it: when accepted
        (`after` 0), else together with its `after`-th answer, as one killed just after it was made (a client's
        handshake is `after` round trips)."""
        with self._lock:
            self._refuse, self._refuse_after = count, after

    def lose_next_reply(self, *, after: int = 0) -> None:
        """Drop the server's next answer (after `after` more) and close its connection: the command ran, its
        client never hears so."""
        with self._lock:
            self._lose_reply = after

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Drop every connection and refuse new ones, until `start` again (on the same port)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)   # wakes the accepting thread: a closed fd alone would not
            listener.close()
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    stop = cut

    def _take_lost_reply(self) -> bool:
        with self._lock:
            if self._lose_reply is None:
                return False
            if self._lose_reply > 0:
                self._lose_reply -= 1
                return False
            self._lose_reply = None
            self.lost_replies += 1
            return True

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                refuse, self._refuse = self._refuse > 0, max(0, self._refuse - 1)
                self.refused += refuse
                answers = self._refuse_after if refuse else -1   # answers passed before it is closed (-1: any)
            if answers == 0:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink, replies in ((client, upstream, False), (upstream, client, True)):
                threading.Thread(target=self._pump, args=(source, sink, replies, answers), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool, answers: int = -1) -> None:
        try:
            while data := source.recv(65536):
                if replies and self._take_lost_reply():
                    return   # closed both ways below, the answer unsent
                if replies:
                    with self._lock:
                        self.answers += 1
                if replies and answers > 0:
                    answers -= 1
                    if answers == 0:
                        # the answer and the close at once (corked until the shutdown sends both): the client
                        # reads its answer and finds the connection closed, whichever thread runs first
                        sink.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                        sink.sendall(data)
                        sink.shutdown(socket.SHUT_WR)
                        return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def rabbitmq_proxy(rabbitmq_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A `TcpProxy` in front of the shared RabbitMQ, and the broker URL through it."""
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(rabbitmq_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672).start()
    credentials = f"{parts.username}:{parts.password}@" if parts.username else ""
    try:
        yield proxy, urlunsplit((parts.scheme, f"{credentials}127.0.0.1:{proxy.port}", parts.path, parts.query, ""))
    finally:
        proxy.cut()


@pytest.fixture
def redis_proxy(restartable_redis: PrivateRedis) -> Iterator[tuple[TcpProxy, str]]:
    """A `TcpProxy` in front of `restartable_redis`, to kill connections at chosen moments, and the URL through it."""
    proxy = TcpProxy("127.0.0.1", restartable_redis.port).start()
    try:
        yield proxy, f"redis://127.0.0.1:{proxy.port}/0"
    finally:
        proxy.cut()
