"""Real local SMS providers for the SMS channel's tests: the kit's local HTTP service, in two protocols.

`twilio_server` speaks the Twilio Messages API (basic auth, form body, the idempotency header)
and `json_server` a generic JSON API. Both record every request with the TCP connection it came
on, and answer 201 unless told otherwise with `then(...)`: an error status and body, or a hang
that lasts until the test ends (longer than any client timeout used here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tidings import Contact, RenderedMessage, registry_for
from tidings.plugin_types import Channel
from tidings.testing import LocalHttpService, Reply, Request

import tidings_sms.plugin
from tidings_sms.config import SmsConfig

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "s3cret-token"


class FakeProvider(LocalHttpService):
    """A local SMS provider: answers with `respond`, or as scripted with `then` / `then_error`."""

    def then_error(self, code: int, status: int = 400, message: str = "") -> None:
        """Answer the next request with a Twilio error body."""
        self.then(status, twilio_error(code, status, message))


def twilio_error(code: int, status: int = 400, message: str = "") -> dict[str, Any]:
    """A Twilio error body."""
    return {"code": code, "message": message or f"error {code}", "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


class TwilioProvider(FakeProvider):
    """The Twilio Messages API of account `ACCOUNT_SID` with token `AUTH_TOKEN`."""

    def respond(self, request: Request) -> Reply:
        if request.path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return Reply(404, twilio_error(20404, 404, "The requested resource was not found"))
        if request.auth != (ACCOUNT_SID, AUTH_TOKEN):
            return Reply(401, twilio_error(20003, 401, "Authentication Error - invalid username"))
        form = request.form
        if "To" not in form or "Body" not in form or not ({"From", "MessagingServiceSid"} & set(form)):
            return Reply(400, twilio_error(21604, message="A 'To', 'Body' and 'From' are required"))
        return Reply(201, {"sid": f"SM{len(self.requests):032x}", "status": "queued", "to": form["To"],
                           "from": form.get("From"), "body": form["Body"], "num_segments": "1"})


class JsonProvider(FakeProvider):
    """A generic JSON API answering 201 ``{"data": {"id": "msg-<n>"}}``."""

    def respond(self, request: Request) -> Reply:
        return Reply(201, {"data": {"id": f"msg-{len(self.requests)}"}})


@pytest.fixture
def twilio_server(start_service: Callable[[FakeProvider], FakeProvider]) -> FakeProvider:
    """A local Twilio-style provider for account `ACCOUNT_SID` with token `AUTH_TOKEN`."""
    return start_service(TwilioProvider())


@pytest.fixture
def json_server(start_service: Callable[[FakeProvider], FakeProvider]) -> FakeProvider:
    """A local JSON provider answering 201 ``{"data": {"id": "msg-<n>"}}``."""
    return start_service(JsonProvider())


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
