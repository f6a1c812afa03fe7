"""Helpers for plugin authors' and hosts' tests: a recording transport and a local message API."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import define, field

from tidings.clock import Clock
from tidings.plugin_types import Receipt, RenderedMessage


@define
class RecordingTransport:
    """A transport that keeps what it is given instead of delivering it (simulate's, and tests')."""

    channel: str
    clock: Clock | None = None
    sent: list[dict[str, Any]] = field(factory=list)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.sent.append({"message": message, "key": idempotency_key,
                          "at": self.clock.now() if self.clock is not None else None})
        return Receipt(provider_id=f"rec-{len(self.sent)}")

    def close(self) -> None:
        pass


class LocalJsonProvider:
    """A real HTTP message API on 127.0.0.1, for end-to-end tests of a JSON provider (``tidings-sms``).

    ``POST /messages`` with a JSON body and an ``Idempotency-Key`` header delivers the message once
    per key (201 with ``{"id": ...}``; a key seen before gets 200 and the same id, and is not
    delivered again); ``GET /messages/KEY`` answers 200 with the id of the message sent under KEY,
    or 404. Point ``[channels.sms] url`` at `url` and ``lookup_url`` at ``url + "/{idempotency_key}"``.
    """

    def __init__(self) -> None:
        self.delivered: list[dict[str, Any]] = []    # each message once, in arrival order
        self.posts: Counter[str] = Counter()         # POSTs per idempotency key
        self.lookups: Counter[str] = Counter()       # "found" / "missing"
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
            # client's delayed ACK hold every answer for ~40 ms, and the provider becomes the benchmark
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                message = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                key = self.headers.get("Idempotency-Key", "")
                with provider.lock:
                    provider.posts[key] += 1
                    replay = key in provider.ids
                    if not replay:
                        provider.ids[key] = f"m-{len(provider.ids) + 1}"
                        provider.delivered.append(message)
                    answer = provider.ids[key]
                self.reply(200 if replay else 201, {"id": answer})

            def do_GET(self) -> None:
                key = self.path.rsplit("/", 1)[-1]
                with provider.lock:
                    answer = provider.ids.get(key)
                    provider.lookups["found" if answer else "missing"] += 1
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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"

    def texts(self) -> list[str]:
        """The delivered messages' ``text`` fields, sorted."""
        with self.lock:
            return sorted(str(m.get("text")) for m in self.delivered)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
