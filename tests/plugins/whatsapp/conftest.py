"""A real local WhatsApp Business Cloud API for the WhatsApp channel's tests: the kit's local HTTP service.

`CloudApi` speaks the messages endpoint as Meta documents it: ``POST /{version}/{phone_number_id}/messages``
with ``Authorization: Bearer <token>`` and a JSON body of ``messaging_product: "whatsapp"``, ``to``
and ``type``. It checks what Meta checks before accepting a message: the token (401, code 190),
the phone number id (400, code 100), the body's shape, and, for a template, that it is approved
in that language (404, code 132001) with that many body parameters (400, code 132000), none of
them holding a line break, a tab or five spaces in a row (400, code 100). An accepted message is
answered 200 with ``contacts`` and ``messages[0].id`` (a ``wamid``). Any other answer is scripted
with `then` (`then_error` writes Meta's error object).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tidings import Contact, RenderedMessage
from tidings.testing import LocalHttpService, Reply, Request

from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate

VERSION = "v23.0"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAG-test-token"
TO = "48600100200"
TEMPLATES = {"visit_reminder": {"pl": 1, "en_US": 1}, "visit_details": {"en_US": 3}, "no_params": {"en_US": 0},
             "contract_test": {"en": 1}}
_BAD_PARAM = re.compile(r"[\n\t]| {5}")


def meta_error(code: int, message: str, *, details: str = "", kind: str = "OAuthException") -> dict[str, Any]:
    """Meta's error object, as the Graph API answers it."""
    return {"error": {"message": f"(#{code}) {message}", "type": kind, "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": details or message},
                      "fbtrace_id": "AbCdEf123"}}


class CloudApi(LocalHttpService):
    """The Cloud API's messages endpoint for `PHONE_NUMBER_ID`, token `TOKEN`, and the approved `TEMPLATES`."""

    def then_error(self, code: int, message: str, *, status: int = 400, **kwargs: Any) -> None:
        """Answer the next request with Meta's error object for `code`."""
        self.then(status, meta_error(code, message, **kwargs))

    def respond(self, request: Request) -> Reply:
        if request.method != "POST" or not request.path.startswith(f"/{VERSION}/"):
            return Reply(400, meta_error(100, "Unknown path components"))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return Reply(401, meta_error(190, "Invalid OAuth access token - Cannot parse access token"))
        if request.path != f"/{VERSION}/{PHONE_NUMBER_ID}/messages":
            return Reply(400, meta_error(100, "Invalid parameter", details="Unsupported post request: the phone number id"))
        body = request.json
        problem = self.problem(body)
        if problem is not None:
            return problem
        n = len(self.accepted()) + 1
        return Reply(200, {"messaging_product": "whatsapp", "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                           "messages": [{"id": f"wamid.HBgL{n:08d}", "message_status": "accepted"}]})

    def problem(self, body: Any) -> Reply | None:
        """Meta's refusal of a malformed or unfillable body, or None when it would be sent."""
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return Reply(400, meta_error(100, "Invalid parameter", details="messaging_product must be 'whatsapp'"))
        if not re.fullmatch(r"[1-9][0-9]{6,14}", str(body.get("to", ""))):
            return Reply(400, meta_error(100, "Invalid parameter", details="to: a phone number in E.164 without '+'"))
        if body.get("type") == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not 0 < len(text["body"]) <= 4096:
                return Reply(400, meta_error(131008, "Required parameter is missing", details="text.body"))
            return None
        if body.get("type") != "template":
            return Reply(400, meta_error(131051, "Unsupported message type"))
        template = body.get("template") or {}
        language = (template.get("language") or {}).get("code")
        expected = TEMPLATES.get(template.get("name"), {}).get(language)
        if expected is None:
            return Reply(404, meta_error(132001, "Template name does not exist in the translation",
                                         details=f"template name ({template.get('name')}) does not exist in {language}"))
        params = [p["text"] for c in template.get("components", []) if c.get("type") == "body" for p in c["parameters"]]
        if len(params) != expected:
            return Reply(400, meta_error(132000, "Number of parameters does not match the expected number of params",
                                         details=f"body: number of localizable_params ({len(params)}) does not match "
                                                 f"the expected number of params ({expected})"))
        if any(_BAD_PARAM.search(p) or not p for p in params):
            return Reply(400, meta_error(100, "Invalid parameter",
                                         details="Param text cannot have new-line/tab characters or more than 4 "
                                                 "consecutive spaces"))
        return None

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the accepted messages, in order."""
        return [request.json for request in self.accepted()]


def parameters_of(body: Mapping[str, Any]) -> list[str]:
    """A template message's body parameters, in order."""
    return [p["text"] for c in body["template"].get("components", []) if c["type"] == "body" for p in c["parameters"]]


@pytest.fixture
def cloud_api(start_service: Callable[[CloudApi], CloudApi]) -> CloudApi:
    """A running local Cloud API."""
    return start_service(CloudApi())


@pytest.fixture
def whatsapp_config(cloud_api: CloudApi) -> WhatsAppConfig:
    """Settings reaching `cloud_api`, with a template for rule ``reminder-24h`` and a short timeout."""
    return WhatsAppConfig(base_url=cloud_api.url, api_version=VERSION, phone_number_id=PHONE_NUMBER_ID,
                          access_token=TOKEN, default_region="PL", timeout=0.5,
                          templates={"reminder-24h": WhatsAppTemplate(name="visit_reminder", language="pl")})


@pytest.fixture
def whatsapp_message() -> Callable[..., RenderedMessage]:
    """Build a rendered WhatsApp message: ``whatsapp_message({"text": ...}, window_until=..., rule=...)``."""
    def build(parts: Mapping[str, str], *, window_until: str | None = None, rule: str = "reminder-24h",
              locale: str = "pl") -> RenderedMessage:
        addresses = {"whatsapp_window_until": window_until} if window_until else {}
        return RenderedMessage(channel="whatsapp", to=TO, parts=dict(parts), rule=rule, subject="a-1",
                               recipient=Contact(id="c-1", phone="+" + TO, addresses=addresses), locale=locale,
                               addresses=(TO,))
    return build
