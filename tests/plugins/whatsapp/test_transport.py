"""The Cloud API transport against a local Cloud API: what it posts, and what each answer becomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import attrs
import pytest

from tidings import RenderedMessage
from tidings.clock import VirtualClock
from tidings.errors import PermanentDeliveryError, TransientDeliveryError

from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate
from tidings_whatsapp.transport import WhatsAppTransport

from .conftest import PHONE_NUMBER_ID, TOKEN, VERSION, CloudApi, parameters_of

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
Build = Callable[..., RenderedMessage]


@pytest.fixture
def transport(whatsapp_config: WhatsAppConfig) -> Iterator[WhatsAppTransport]:
    sender = WhatsAppTransport.connect(whatsapp_config, token=TOKEN, clock=VirtualClock(NOW))
    yield sender
    sender.close()


def test_a_template_message_reaches_the_api_with_the_bearer_token_and_its_key(
        transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    receipt = transport.send(whatsapp_message({"text": "Cześć Ola, przypominamy o wizycie jutro o 14:00."}),
                             idempotency_key="key-1")
    [request] = cloud_api.accepted()
    assert request.path == f"/{VERSION}/{PHONE_NUMBER_ID}/messages"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    body = request.json
    assert (body["to"], body["type"], body["biz_opaque_callback_data"]) == ("48600100200", "template", "key-1")
    assert parameters_of(body) == ["Cześć Ola, przypominamy o wizycie jutro o 14:00."]
    assert receipt.provider_id == "wamid.HBgL00000001"
    assert receipt.info == {"type": "template", "template": "visit_reminder", "language": "pl"}


def test_inside_the_window_the_text_is_sent_as_written(
        transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    text = "Hi Ola!\n\nSee you tomorrow at 14:00."
    receipt = transport.send(whatsapp_message({"text": text}, window_until="2026-03-02T20:00:00+01:00"),
                             idempotency_key="key-1")
    [body] = cloud_api.bodies()
    assert body["type"] == "text" and body["text"] == {"preview_url": False, "body": text}
    assert receipt.info == {"type": "text"}


def test_messages_share_one_connection(transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    for n in range(3):
        transport.send(whatsapp_message({"text": f"Message {n}"}), idempotency_key=f"key-{n}")
    assert len(cloud_api.accepted()) == 3 and len(cloud_api.connections()) == 1


def test_a_template_the_account_has_not_in_that_language_fails_for_good(
        whatsapp_config: WhatsAppConfig, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    # the local API knows visit_reminder in pl and en_US only
    config = attrs.evolve(whatsapp_config, templates={"reminder-24h": WhatsAppTemplate(name="visit_reminder")})
    sender = WhatsAppTransport.connect(config, token=TOKEN, clock=VirtualClock(NOW))
    try:
        with pytest.raises(PermanentDeliveryError) as refused:
            sender.send(whatsapp_message({"text": "Hallo"}, locale="de"), idempotency_key="k")
    finally:
        sender.close()
    assert refused.value.reason == "template_not_found"
    assert refused.value.details["code"] == 132001 and refused.value.details["status"] == 404
    assert "does not exist in de" in refused.value.details["details"]


def test_a_template_with_another_number_of_parameters_fails_for_good(
        whatsapp_config: WhatsAppConfig, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    config = attrs.evolve(whatsapp_config, templates={"reminder-24h": WhatsAppTemplate(name="visit_details",
                                                                                      language="en_US")})
    sender = WhatsAppTransport.connect(config, token=TOKEN, clock=VirtualClock(NOW))
    try:
        with pytest.raises(PermanentDeliveryError) as refused:
            sender.send(whatsapp_message({"text": "One text for three parameters"}), idempotency_key="k")
    finally:
        sender.close()
    assert refused.value.reason == "template_params_mismatch" and cloud_api.accepted() == []


def test_a_wrong_token_is_provider_auth_naming_the_setting(
        whatsapp_config: WhatsAppConfig, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    sender = WhatsAppTransport.connect(whatsapp_config, token="EAAG-revoked", clock=VirtualClock(NOW))
    try:
        with pytest.raises(PermanentDeliveryError) as refused:
            sender.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    finally:
        sender.close()
    assert refused.value.reason == "provider_auth" and refused.value.details["code"] == 190
    assert "$TIDINGS_WHATSAPP_ACCESS_TOKEN" in str(refused.value) and "EAAG-revoked" not in str(refused.value)


@pytest.mark.parametrize(("code", "reason"), [(131047, "reengagement_required"), (131026, "undeliverable"),
                                              (131030, "recipient_not_allowed"), (131021, "invalid_address")])
def test_a_refusal_for_the_recipient_is_permanent_with_its_reason(
        transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build, code: int, reason: str) -> None:
    cloud_api.then_error(code, "refused")
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    assert refused.value.reason == reason and refused.value.details["code"] == code


def test_throttling_is_transient_and_keeps_the_seconds_meta_asked_for(
        transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    cloud_api.then(400, {"error": {"code": 131056, "message": "(#131056) (Business Account, Consumer Account) pair "
                                                              "rate limit hit"}}, headers={"Retry-After": "12"})
    with pytest.raises(TransientDeliveryError) as deferred:
        transport.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    assert deferred.value.reason == "rate_limited" and deferred.value.retry_after == 12.0


def test_a_server_error_and_a_hang_are_transient(
        transport: WhatsAppTransport, cloud_api: CloudApi, whatsapp_message: Build) -> None:
    cloud_api.then(502, "<html>Bad Gateway</html>")
    with pytest.raises(TransientDeliveryError) as failed:
        transport.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    assert failed.value.reason == "provider_unavailable"
    cloud_api.then(200, hang=True)   # longer than the 0.5 s timeout
    with pytest.raises(TransientDeliveryError) as hung:
        transport.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    assert hung.value.reason == "timeout"


def test_a_closed_port_is_transient(whatsapp_config: WhatsAppConfig, whatsapp_message: Build) -> None:
    config = attrs.evolve(whatsapp_config, base_url="http://127.0.0.1:9")   # discard: nothing listens
    sender = WhatsAppTransport.connect(config, token=TOKEN)
    try:
        with pytest.raises(TransientDeliveryError) as failed:
            sender.send(whatsapp_message({"text": "Hi"}), idempotency_key="k")
    finally:
        sender.close()
    assert failed.value.reason == "connection_failed"
