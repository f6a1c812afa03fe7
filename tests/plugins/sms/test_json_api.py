"""The generic JSON transport against a real local JSON API."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from tidings import PermanentDeliveryError, RenderedMessage, TransientDeliveryError
from tidings.errors import ConfigError
from tidings.plugin_types import Channel, Transport
from tidings.testing import ConnectTransport

from tidings_sms.config import SmsConfig

Sms = Callable[..., RenderedMessage]


@pytest.fixture
def transport(sms_channel: Channel, json_config: SmsConfig, connect_transport: ConnectTransport) -> Transport:
    return connect_transport(sms_channel, json_config)


def test_an_accepted_message_returns_the_id_and_the_provider_saw_the_mapped_body(
        transport: Transport, json_server, sms: Sms) -> None:
    # When
    receipt = transport.send(sms("See you at 10:00 {to}", to="+393471234567"), idempotency_key="k-1")
    # Then
    assert receipt.provider_id == "msg-1"
    assert receipt.info == {"encoding": "GSM-7", "segments": 1}
    [seen] = json_server.requests
    assert seen.path == "/v1/sms"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["authorization"] == "Bearer s3cret-token"
    # the text is put in once: braces inside it are not placeholders
    assert seen.json == {"recipient": {"msisdn": "+393471234567"}, "from": "Salon",
                         "message": "See you at 10:00 {to}", "options": {"dedupe": "k-1"}}


def test_the_idempotency_key_travels_in_the_idempotency_key_header(transport: Transport, json_server, sms: Sms) -> None:
    transport.send(sms("Hi"), idempotency_key="reminder-24h:apt-1:c-1:2026-03-10T13:00Z")
    assert json_server.requests[0].headers["idempotency-key"] == "reminder-24h:apt-1:c-1:2026-03-10T13:00Z"


def test_the_default_body_sends_to_from_and_text(sms_channel: Channel, json_server, sms: Sms,
                                                 connect_transport: ConnectTransport) -> None:
    transport = connect_transport(sms_channel, SmsConfig(provider="json", url=json_server.url, sender="+48500600700"))
    receipt = transport.send(sms("Hi"), idempotency_key="k")
    assert json_server.requests[0].json == {"to": "+48600100200", "from": "+48500600700", "text": "Hi"}
    assert receipt.provider_id is None   # the default id_field "id" is absent from this provider's answer


def test_an_error_code_listed_as_invalid_address_is_a_permanent_invalid_address_failure(
        transport: Transport, json_server, sms: Sms) -> None:
    json_server.then(422, {"error": {"code": "INVALID_NUMBER", "detail": "not a mobile number"}})
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "invalid_address"
    assert caught.value.details == {"provider": "json", "status": 422, "code": "INVALID_NUMBER"}


@pytest.mark.parametrize(("status", "body"), [(400, {"error": {"code": "BODY_TOO_LONG"}}), (404, "no such route"), (204, None)])
def test_any_other_refusal_is_a_permanent_provider_rejected_failure(
        transport: Transport, json_server, sms: Sms, status: int, body: object) -> None:
    json_server.then(status, body)
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "provider_rejected"
    assert caught.value.details["status"] == status


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_a_permanent_provider_auth_failure(
        transport: Transport, json_server, sms: Sms, status: int) -> None:
    json_server.then(status, {"error": {"code": "UNAUTHORIZED"}})
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "provider_auth"


@pytest.mark.parametrize(("status", "reason"), [(503, "provider_unavailable"), (502, "provider_unavailable"),
                                                (429, "rate_limited"), (408, "provider_unavailable")])
def test_an_overloaded_or_failing_provider_is_a_transient_failure(
        transport: Transport, json_server, sms: Sms, status: int, reason: str) -> None:
    json_server.then(status, {"error": {"code": "BUSY"}})
    with pytest.raises(TransientDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == reason
    assert caught.value.retry_after is None and "retry_after" not in caught.value.details   # none was asked for


def test_a_provider_that_hangs_past_the_timeout_is_a_transient_failure(transport: Transport, json_server, sms: Sms) -> None:
    json_server.then(201, {"data": {"id": "late"}}, hang=True)
    with pytest.raises(TransientDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "timeout"


def test_a_url_with_an_unusable_scheme_is_a_permanent_provider_config_failure(
        sms_channel: Channel, sms: Sms, connect_transport: ConnectTransport) -> None:
    transport = connect_transport(sms_channel, SmsConfig(provider="json", url="ftp://sms.example/send"))
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "provider_config"


def test_several_sends_share_one_tcp_connection(transport: Transport, json_server, sms: Sms) -> None:
    for i in range(3):
        assert transport.send(sms(f"Message {i}"), idempotency_key=f"k-{i}").provider_id == f"msg-{i + 1}"
    assert len(json_server.connections()) == 1


def test_connect_requires_a_url_and_a_token_its_headers_use(sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        sms_channel.connect(SmsConfig(provider="json"))
    assert [p.path for p in caught.value.problems] == ["channels.sms.url"]
    with pytest.raises(ConfigError) as caught:
        sms_channel.connect(SmsConfig(provider="json", url="https://sms.example", headers={"X-Key": "{auth_token}"}))
    assert [p.path for p in caught.value.problems] == ["channels.sms.auth_token"]


def test_a_lookup_by_idempotency_key_tells_whether_the_provider_has_the_message(
        sms_channel: Channel, json_server, json_config: SmsConfig, connect_transport: ConnectTransport) -> None:
    lookup = attrs.evolve(json_config, lookup_url=f"{json_server.url}/v1/sms/by-key/{{idempotency_key}}")
    transport = connect_transport(sms_channel, lookup)
    json_server.then(200, {"data": {"id": "msg-7"}})
    found = transport.find(idempotency_key="k-1")   # type: ignore[attr-defined]
    json_server.then(404, {"error": {"code": "NOT_FOUND"}})
    missing = transport.find(idempotency_key="k-2")   # type: ignore[attr-defined]
    json_server.then(503)
    with pytest.raises(TransientDeliveryError):      # the provider cannot say: try again later
        transport.find(idempotency_key="k-3")   # type: ignore[attr-defined]
    assert found is not None and found.provider_id == "msg-7"
    assert missing is None
    seen = json_server.requests[0]
    assert (seen.method, seen.path, seen.headers["authorization"]) == ("GET", "/v1/sms/by-key/k-1", "Bearer s3cret-token")


def test_without_a_lookup_url_the_transport_cannot_look_messages_up(transport: Transport) -> None:
    assert transport.find is None   # type: ignore[attr-defined]
