"""Real local SMS providers for the SMS channel's tests: HTTP servers on 127.0.0.1 in a thread.

`twilio_server` speaks the Twilio Messages API (basic auth, form body, the idempotency header)
and `json_server` a generic JSON API. Both record every request with the TCP connection it came
on, and answer 201 unless told otherwise with `then(...)`: an error status and body, or a hang
that lasts until the test ends (longer than any client timeout used here).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from attrs import define, field, frozen

from tidings import Contact, RenderedMessage, registry_for
from tidings.plugin_types import Channel

import tidings_sms.plugin
from tidings_sms.config import SmsConfig

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "s3cret-token"
HANG_LIMIT = 10.0   # a hung request is released at teardown, or after this many seconds at worst


@frozen
class Seen:
    """One request as the provider received it."""

    method: str
    path: str
    headers: Mapping[str, str]          # lower-cased names
    body: bytes
    connection: tuple[str, int]         # the client's (host, port): one per TCP connection
    auth: tuple[str, str] | None

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@frozen
class Reply:
    """What the provider answers to one request."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(factory=dict)
    hang: bool = False


@define
class FakeProvider:
    """A real HTTP server on an ephemeral port, answering with `respond(seen)` or a scripted reply."""

    respond: Callable[[FakeProvider, Seen], Reply]
    requests: list[Seen] = field(factory=list)
    script: deque[Reply] = field(factory=deque)
    release: threading.Event = field(factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def then(self, status: int, body: Any = None, *, headers: Mapping[str, str] | None = None,
             hang: bool = False) -> None:
        """Answer the next request (not yet answered by an earlier `then`) like this."""
        self.script.append(Reply(status=status, body=body, headers=dict(headers or {}), hang=hang))

    def then_error(self, code: int, status: int = 400, message: str = "") -> None:
        """Answer the next request with a Twilio error body."""
        self.then(status, twilio_error(code, status, message))

    def connections(self) -> set[tuple[str, int]]:
        return {seen.connection for seen in self.requests}

    def handle(self, seen: Seen) -> Reply:
        self.requests.append(seen)
        return self.script.popleft() if self.script else self.respond(self, seen)

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive, so connection reuse is observable
            timeout = 5                     # an idle kept-alive connection ends on its own

            def do_POST(self) -> None:
                self.answer("POST")

            def do_GET(self) -> None:
                self.answer("GET")

            def answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                seen = Seen(method=method, path=self.path, body=body, connection=self.client_address[:2],
                            headers={k.lower(): v for k, v in self.headers.items()}, auth=_basic(self.headers))
                reply = provider.handle(seen)
                if reply.hang:
                    provider.release.wait(HANG_LIMIT)
                payload = b"" if reply.body is None else (
                    reply.body.encode() if isinstance(reply.body, str) else json.dumps(reply.body).encode())
                try:
                    self.send_response(reply.status)
                    content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass   # the client gave up waiting (the hang tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         name="fake-sms-provider", daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _basic(headers: Any) -> tuple[str, str] | None:
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    return user, password


def twilio_error(code: int, status: int = 400, message: str = "") -> dict[str, Any]:
    """A Twilio error body."""
    return {"code": code, "message": message or f"error {code}", "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _twilio(provider: FakeProvider, seen: Seen) -> Reply:
    if seen.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
        return Reply(404, twilio_error(20404, 404, "The requested resource was not found"))
    if seen.auth != (ACCOUNT_SID, AUTH_TOKEN):
        return Reply(401, twilio_error(20003, 401, "Authentication Error - invalid username"))
    form = seen.form
    if "To" not in form or "Body" not in form or not ({"From", "MessagingServiceSid"} & set(form)):
        return Reply(400, twilio_error(21604, message="A 'To', 'Body' and 'From' are required"))
    return Reply(201, {"sid": f"SM{len(provider.requests):032x}", "status": "queued", "to": form["To"],
                       "from": form.get("From"), "body": form["Body"], "num_segments": "1"})


def _json(provider: FakeProvider, seen: Seen) -> Reply:
    return Reply(201, {"data": {"id": f"msg-{len(provider.requests)}"}})


def _serve(respond: Callable[[FakeProvider, Seen], Reply]) -> Iterator[FakeProvider]:
    provider = FakeProvider(respond=respond)
    try:
        provider.start()
    except OSError as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"could not start the local SMS provider: {e}")
        pytest.skip(f"could not start the local SMS provider: {e}")
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def twilio_server() -> Iterator[FakeProvider]:
    """A local Twilio-style provider for account `ACCOUNT_SID` with token `AUTH_TOKEN`."""
    yield from _serve(_twilio)


@pytest.fixture
def json_server() -> Iterator[FakeProvider]:
    """A local JSON provider answering 201 ``{"data": {"id": "msg-<n>"}}``."""
    yield from _serve(_json)


@pytest.fixture
def sms_channel() -> Channel:
    """The SMS channel, as the core sees it after registration."""
    return registry_for(tidings_sms.plugin).channels["sms"]


@pytest.fixture
def sms() -> Callable[..., RenderedMessage]:
    """Build a rendered SMS: ``sms("text", to="+48600100200")``."""
    def build(text: str, to: str = "+48600100200") -> RenderedMessage:
        return RenderedMessage(channel="sms", to=to, parts={"text": text}, rule="reminder-24h", subject="apt-1",
                               recipient=Contact(id="c-1", phone=to), locale="pl")
    return build


@pytest.fixture
def twilio_config(twilio_server: FakeProvider) -> SmsConfig:
    """Settings pointing at `twilio_server`, with a short timeout for the hang tests."""
    return SmsConfig(provider="twilio", base_url=twilio_server.url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                     sender="+48500600700", default_region="PL", timeout=0.5)


@pytest.fixture
def json_config(json_server: FakeProvider) -> SmsConfig:
    """Settings pointing at `json_server`, with a body mapping and an authorization header."""
    return SmsConfig(provider="json", url=f"{json_server.url}/v1/sms", auth_token=AUTH_TOKEN, sender="Salon",
                     headers={"Authorization": "Bearer {auth_token}"},
                     body={"recipient": {"msisdn": "{to}"}, "from": "{sender}", "message": "{text}",
                           "options": {"dedupe": "{idempotency_key}"}},
                     id_field="data.id", error_field="error.code", invalid_address_codes=("INVALID_NUMBER",),
                     timeout=0.5)
