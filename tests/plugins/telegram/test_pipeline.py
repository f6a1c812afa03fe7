"""The Telegram channel in the real pipeline, against the local Bot API, with SMS (a local JSON API) after it.

The rule sends ``channel = ["telegram", "sms"]`` with the built-in texts; the pipeline runs on the
kit's stub broker with a real worker thread. Nothing of either transport is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tidings.deployment import Deployment
from tidings.testing import NOW, LocalJsonProvider, StubPipeline, registry_for

import tidings_sms.plugin
import tidings_telegram.plugin

from .conftest import BLOCKED, CHAT, TOKEN, BotApi, bot_error


@pytest.fixture
def stub(bot_api: BotApi, local_json_provider: LocalJsonProvider, start_pipeline: Callable[..., StubPipeline]) -> StubPipeline:
    deployed = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
        "plugins": {"channels": ["telegram", "sms"], "triggers": ["status-change"]},
        "channels": {"telegram": {"base_url": bot_api.url, "bot_token": TOKEN, "timeout": 5.0},
                     "sms": {"provider": "json", "url": local_json_provider.url, "sender": "Salon", "timeout": 5.0}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": ["telegram", "sms"]}],
    })
    settings = deployed.config.channels
    transports = {name: registry_for(plugin).channels[name].connect(settings[name])
                  for name, plugin in (("telegram", tidings_telegram.plugin), ("sms", tidings_sms.plugin))}
    return start_pipeline(deployed, transports=transports)


def visit(chat: int | None = CHAT, **client: Any) -> dict[str, Any]:
    return {"id": "evt-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "services": [{"id": "mani", "name": "Manicure & <Gel>"}],
                        "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48 600 100 200", "locale": "en",
                                   "addresses": {"telegram": str(chat)} if chat is not None else {},
                                   "consents": {"telegram": True, "sms": True}, **client}}}


def log(stub: StubPipeline) -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in stub.pipeline.store.log(subject="a-1")
            if e["status"] != "scheduled"]


def test_a_confirmation_reaches_the_clients_chat_with_its_title_in_bold(
        stub: StubPipeline, bot_api: BotApi, local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit())
    stub.run()
    [delivered] = bot_api.delivered
    assert delivered.chat_id == CHAT
    [title] = delivered.bold
    assert delivered.text.startswith(title + "\n\nHi Ola Nowak,")
    assert "Manicure & <Gel>" in delivered.text          # a service's name shows as the host wrote it
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "telegram", None)]
    [sent] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert (sent["to"], sent["provider_id"], sent["title"]) == (str(CHAT), "101", title)


def test_flood_control_is_retried_once_and_the_chat_gets_the_message_once(
        stub: StubPipeline, bot_api: BotApi, local_json_provider: LocalJsonProvider) -> None:
    bot_api.then(429, bot_error(429, "Too Many Requests: retry after 1", retry_after=1))
    stub.publish(visit())
    stub.run()
    assert len(bot_api.requests) == 2 and len(bot_api.delivered) == 1
    assert bot_api.requests[0].json == bot_api.requests[1].json    # the same message again, not a second one
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "telegram", None)]


def test_a_client_who_blocked_the_bot_gets_the_message_by_sms(
        stub: StubPipeline, bot_api: BotApi, local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit(chat=BLOCKED))
    stub.run()
    assert len(bot_api.requests) == 1 and bot_api.delivered == []
    [sms] = local_json_provider.delivered
    assert sms["to"] == "+48600100200" and sms["text"].startswith("Hi Ola Nowak, ")
    assert log(stub) == [("failed", "telegram", "blocked"), ("sent", "sms", None)]


def test_a_client_who_never_linked_a_chat_gets_sms_without_calling_telegram(
        stub: StubPipeline, bot_api: BotApi, local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit(chat=None))
    stub.run()
    assert bot_api.requests == [] and len(local_json_provider.delivered) == 1
    assert log(stub) == [("sent", "sms", None)]
