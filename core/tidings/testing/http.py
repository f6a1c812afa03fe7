"""A local HTTP service to test a transport against: a real server on 127.0.0.1, in a thread of its own.

Subclass `LocalHttpService` and override `respond` to speak a provider's protocol; every request
is recorded (`requests`), and a test scripts the next answers with `then` (an error status, a
``Retry-After``, or a hang that outlasts the client's timeout). The server speaks HTTP/1.1 with
keep-alive, so a transport's connection reuse is observable (`connections`), and sets
TCP_NODELAY. It needs no pytest: ``bench/`` drives the same services.

Example::

    class Hooks(LocalHttpService):
        def respond(self, request: Request) -> Reply:
            return Reply(200, {"id": f"h-{len(self.requests)}"})

    with Hooks() as hooks:          # started, and stopped on the way out
        post_to(hooks.url + "/hook")
        assert hooks.requests[0].headers["idempotency-key"]
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from collections import deque
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl

from attrs import field, frozen


@frozen
class Request:
    """One request as the service received it."""

    method: str
    path: str
    headers: Mapping[str, str]        # lower-cased names
    body: bytes
    connection: tuple[str, int]       # the client's (host, port): one per TCP connection

    @property
    def form(self) -> dict[str, str]:
        """The body read as ``application/x-www-form-urlencoded``."""
        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def auth(self) -> tuple[str, str] | None:
        """The user name and password of HTTP basic authentication, if the request carries them."""
        value = self.headers.get("authorization", "")
        if not value.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
        return user, password


@frozen
class Reply:
    """What the service answers to one request.

    A `body` of None is empty, a `str` is sent as ``text/plain``, `bytes` as they are, and
    anything else as JSON. `headers` are added last, so they may replace ``Content-Type``.
    """

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(factory=dict)
    hang: bool = False      # answer only when the service stops (or after HANG_LIMIT): a hung provider

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The payload and the headers that go with it."""
        if self.body is None:
            payload, kind = b"", None
        elif isinstance(self.body, bytes):
            payload, kind = self.body, "application/octet-stream"
        elif isinstance(self.body, str):
            payload, kind = self.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, kind = json.dumps(self.body).encode(), "application/json"
        headers = {"Content-Type": kind} if kind else {}
        return payload, {**headers, "Content-Length": str(len(payload)), **self.headers}


class LocalHttpService:
    """A threaded HTTP/1.1 server on an ephemeral port of 127.0.0.1; see the module docstring.

    `respond` is called for one request at a time (under `lock`), so a subclass may keep its
    state in plain attributes; a test reading that state while requests arrive takes `lock` too.
    """

    HANG_LIMIT: ClassVar[float] = 10.0   # a hung request is released at `stop`, or after this at worst
    IDLE_TIMEOUT: ClassVar[float] = 5.0  # a kept-alive connection left idle this long is closed

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.replies: list[Reply] = []        # the answer to each of `requests`, by index
        self.script: deque[Reply] = deque()
        self.lock = threading.RLock()
        self.release = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ the protocol

    def respond(self, request: Request) -> Reply:
        """The answer to a request no `then` scripted; override it to speak a provider's protocol."""
        return Reply(200)

    def then(self, status: int, body: Any = None, *, headers: Mapping[str, str] | None = None,
             hang: bool = False) -> None:
        """Answer the next request (not yet answered by an earlier `then`) like this."""
        with self.lock:
            self.script.append(Reply(status=status, body=body, headers=dict(headers or {}), hang=hang))

    def handle(self, request: Request) -> Reply:
        """Record `request` and choose its answer: the next scripted one, else `respond`'s."""
        with self.lock:
            self.requests.append(request)
            try:
                reply = self.script.popleft() if self.script else self.respond(request)
            except BaseException:
                self.replies.append(Reply(500, "the service's respond() raised"))   # keeps replies[i] with requests[i]
                raise
            self.replies.append(reply)
            return reply

    def accepted(self) -> list[Request]:
        """The requests answered with a 2xx status, in order of arrival."""
        with self.lock:
            return [request for request, reply in zip(self.requests, self.replies) if 200 <= reply.status < 300]

    def connections(self) -> set[tuple[str, int]]:
        """The TCP connections requests came on (one per client port)."""
        with self.lock:
            return {request.connection for request in self.requests}

    # ------------------------------------------------------------ the server

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self.server is None:
            raise RuntimeError(f"{type(self).__name__} is not started: call start() or use it in a with block")
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on a fresh port and serve in a daemon thread (once); raises OSError when it cannot bind."""
        if self.server is not None:
            return self
        self.server = _Server(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         name=type(self).__name__, daemon=True).start()
        return self

    def stop(self) -> None:
        """Release hung requests, stop serving and close the port."""
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that dies or drops its kept-alive connection (a killed worker) is no error of the service
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(service: LocalHttpService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"    # keep-alive, so connection reuse is observable
        timeout = service.IDLE_TIMEOUT
        # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold every answer for ~40 ms, and the service becomes the benchmark
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def do_DELETE(self) -> None:
            self._answer()

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = Request(method=self.command, path=self.path, body=body, connection=self.client_address[:2],
                              headers={k.lower(): v for k, v in self.headers.items()})
            reply = service.handle(request)
            if reply.hang:
                service.release.wait(service.HANG_LIMIT)
            payload, headers = reply.encoded()
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass   # the client gave up waiting (a hang outlasting its timeout)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
