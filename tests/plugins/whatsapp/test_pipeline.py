"""The WhatsApp channel in the real pipeline, against the local Cloud API, with SMS (a local JSON API) after it.

The rule sends ``channel = ["whatsapp", "sms"]`` with the built-in texts; the pipeline runs on the
kit's stub broker with a real worker thread and a virtual clock, which the WhatsApp transport
reads too, to tell whether the client's window is open. Nothing of either transport is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.testing import NOW, LocalJsonProvider, StubPipeline, registry_for

import tidings_sms.plugin
from tidings_whatsapp.transport import WhatsAppTransport

from .conftest import PHONE_NUMBER_ID, TOKEN, VERSION, CloudApi, parameters_of


def deployment(cloud_api: CloudApi, sms: LocalJsonProvider, *, approved: dict[str, Any] | None = None,
               rule: dict[str, Any] | None = None, **more: Any) -> Deployment:
    """WhatsApp (with the `approved` templates by rule, by default one for "confirmed") and SMS after it."""
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
        "plugins": {"channels": ["whatsapp", "sms"], "triggers": ["status-change"]},
        "channels": {
            "whatsapp": {"base_url": cloud_api.url, "api_version": VERSION, "phone_number_id": PHONE_NUMBER_ID,
                         "access_token": TOKEN, "timeout": 5.0,
                         "templates": {"confirmed": {"name": "visit_reminder", "language": "en_US"}}
                         if approved is None else approved},
            "sms": {"provider": "json", "url": sms.url, "sender": "Salon", "timeout": 5.0}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": ["whatsapp", "sms"],
                   **(rule or {})}],
        **more,
    })


def start(deployed: Deployment, clock: VirtualClock, start_pipeline: Callable[..., StubPipeline]) -> StubPipeline:
    settings = deployed.config.channels
    sms = registry_for(tidings_sms.plugin).channels["sms"]
    whatsapp = WhatsAppTransport.connect(settings["whatsapp"], token=TOKEN, clock=clock)   # the pipeline's clock
    return start_pipeline(deployed, transports={"whatsapp": whatsapp, "sms": sms.connect(settings["sms"])}, clock=clock)


def visit(**client: Any) -> dict[str, Any]:
    return {"id": "evt-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "services": [{"id": "mani", "name": "Manicure"}],
                        "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48 600 100 200", "locale": "en",
                                   "consents": {"whatsapp": True, "sms": True}, **client}}}


def log(stub: StubPipeline) -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in stub.pipeline.store.log(subject="a-1")
            if e["status"] != "scheduled"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def stub(cloud_api: CloudApi, local_json_provider: LocalJsonProvider, clock: VirtualClock,
         start_pipeline: Callable[..., StubPipeline]) -> StubPipeline:
    return start(deployment(cloud_api, local_json_provider), clock, start_pipeline)


def test_a_confirmation_goes_as_the_rules_template_filled_with_the_built_in_text(
        stub: StubPipeline, cloud_api: CloudApi, local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit())
    stub.run()
    [body] = cloud_api.bodies()
    assert (body["to"], body["type"], body["template"]["name"]) == ("48600100200", "template", "visit_reminder")
    [text] = parameters_of(body)
    assert text.startswith("Hi Ola Nowak, ") and "Mar 10, 2026, 2:00 PM" in text and "\n" not in text
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "whatsapp", None)]
    [sent] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["to"] == "48600100200" and sent["provider_id"] == "wamid.HBgL00000001"
    assert sent["info"] == {"type": "template", "template": "visit_reminder", "language": "en_US"}
    assert sent["text"] == text   # the delivery log keeps the short text, as rendered


def test_inside_the_window_the_host_marked_the_text_goes_as_free_text(
        stub: StubPipeline, cloud_api: CloudApi) -> None:
    until = (NOW + timedelta(hours=3)).isoformat()
    stub.publish(visit(addresses={"whatsapp_window_until": until}))
    stub.run()
    [body] = cloud_api.bodies()
    assert body["type"] == "text" and body["text"]["body"].startswith("Hi Ola Nowak, ")
    assert log(stub) == [("sent", "whatsapp", None)]


def test_a_rate_limit_is_retried_once_under_the_same_key_and_delivered_once(
        stub: StubPipeline, cloud_api: CloudApi, local_json_provider: LocalJsonProvider) -> None:
    cloud_api.then_error(130429, "Rate limit hit", details="Cloud API message throughput has been reached.")
    stub.publish(visit())
    stub.run()
    assert [r.json["type"] for r in cloud_api.requests] == ["template", "template"]
    assert len(cloud_api.accepted()) == 1 and local_json_provider.delivered == []
    # the Cloud API has no idempotency key: each attempt carries the message's key as webhook correlation data
    [sent] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert [r.json["biz_opaque_callback_data"] for r in cloud_api.requests] == [sent["key"], sent["key"]]
    assert log(stub) == [("sent", "whatsapp", None)]


def test_an_undeliverable_number_gets_the_message_by_sms(
        stub: StubPipeline, cloud_api: CloudApi, local_json_provider: LocalJsonProvider) -> None:
    cloud_api.then_error(131026, "Message undeliverable", details="Message failed to send because the recipient's "
                                                                  "phone number is not a WhatsApp phone number.")
    stub.publish(visit())
    stub.run()
    assert len(cloud_api.requests) == 1 and cloud_api.accepted() == []
    [delivered] = local_json_provider.delivered
    assert delivered["to"] == "+48600100200" and delivered["text"].startswith("Hi Ola Nowak, ")
    assert log(stub) == [("failed", "whatsapp", "undeliverable"), ("sent", "sms", None)]
    [failed] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert failed["details"]["code"] == 131026 and failed["to"] == "48600100200"


def test_a_rule_without_a_template_outside_the_window_goes_by_sms_without_calling_meta(
        cloud_api: CloudApi, local_json_provider: LocalJsonProvider, clock: VirtualClock,
        start_pipeline: Callable[..., StubPipeline]) -> None:
    stub = start(deployment(cloud_api, local_json_provider, approved={}), clock, start_pipeline)
    stub.publish(visit())
    stub.run()
    assert cloud_api.requests == []
    assert len(local_json_provider.delivered) == 1
    assert log(stub) == [("failed", "whatsapp", "no_template"), ("sent", "sms", None)]


def test_a_client_without_whatsapp_consent_gets_sms(stub: StubPipeline, cloud_api: CloudApi,
                                                    local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit(consents={"whatsapp": False, "sms": True}))
    stub.run()
    assert cloud_api.requests == [] and len(local_json_provider.delivered) == 1
    assert log(stub) == [("sent", "sms", None)]


def test_a_deployer_template_writes_one_parameter_per_line_for_a_template_with_several(
        cloud_api: CloudApi, local_json_provider: LocalJsonProvider, clock: VirtualClock,
        start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given an approved template "Hi {{1}}, your visit on {{2}} is booked: {{3}}" and the deployer's text for it
    deployed = deployment(
        cloud_api, local_json_provider, approved={"confirmed": {"name": "visit_details", "language": "en_US",
                                                                "parameters": 3}},
        rule={"template": "details"},
        templates={"details": {
            "whatsapp": "{{ client.first_name }}\n{{ subject.start | datetime }}\n{% for s in services %}{{ s.name }}{% endfor %}",
            "sms": "Hi {{ client.first_name }}, booked for {{ subject.start | datetime }}"}})
    stub = start(deployed, clock, start_pipeline)
    # When the visit is booked, inside the client's window even
    stub.publish(visit(addresses={"whatsapp_window_until": (NOW + timedelta(hours=3)).isoformat()}))
    stub.run()
    # Then the template goes, its three parameters the text's three lines
    [body] = cloud_api.bodies()
    assert body["type"] == "template" and body["template"]["name"] == "visit_details"
    assert parameters_of(body) == ["Ola", "Mar 10, 2026, 2:00 PM", "Manicure"]
    assert log(stub) == [("sent", "whatsapp", None)]
