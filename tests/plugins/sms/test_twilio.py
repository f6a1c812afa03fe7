"""The Twilio-style transport against a real local server speaking the Twilio Messages API."""

from __future__ import annotations

import socket
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
def transport(sms_channel: Channel, twilio_config: SmsConfig, connect_transport: ConnectTransport) -> Transport:
    return connect_transport(sms_channel, twilio_config)


def test_an_accepted_message_returns_the_sid_and_the_provider_saw_the_right_fields(
        transport: Transport, twilio_server, twilio_config: SmsConfig, sms: Sms) -> None:
    # When
    receipt = transport.send(sms("Zażółć gęślą jaźń", to="+48600100200"), idempotency_key="k-1")
    # Then
    assert receipt.provider_id == f"SM{1:032x}"
    assert receipt.info == {"encoding": "UCS-2", "segments": 1, "provider_segments": 1}
    [seen] = twilio_server.requests
    assert seen.path == f"/2010-04-01/Accounts/{twilio_config.account_sid}/Messages.json"
    assert seen.auth == (twilio_config.account_sid, twilio_config.auth_token)
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form == {"To": "+48600100200", "From": "+48500600700", "Body": "Zażółć gęślą jaźń"}


def test_the_idempotency_key_reaches_the_provider_on_every_attempt(transport: Transport, twilio_server, sms: Sms) -> None:
    # Given a first attempt the provider could not answer
    twilio_server.then(503, {"code": 20500, "message": "Internal Server Error"})
    with pytest.raises(TransientDeliveryError):
        transport.send(sms("Hi"), idempotency_key="reminder-24h:apt-1:c-1:2026-03-10T13:00Z")
    # When the core retries
    transport.send(sms("Hi"), idempotency_key="reminder-24h:apt-1:c-1:2026-03-10T13:00Z")
    # Then both attempts carried the same token
    tokens = [seen.headers["i-twilio-idempotency-token"] for seen in twilio_server.requests]
    assert tokens == ["reminder-24h:apt-1:c-1:2026-03-10T13:00Z"] * 2


def test_a_messaging_service_is_sent_instead_of_a_from_number(
        sms_channel: Channel, twilio_config: SmsConfig, twilio_server, sms: Sms, connect_transport: ConnectTransport) -> None:
    config = attrs.evolve(twilio_config, sender="", messaging_service_sid="MG0123")
    transport = connect_transport(sms_channel, config)
    transport.send(sms("Hi"), idempotency_key="k")
    assert twilio_server.requests[0].form == {"To": "+48600100200", "MessagingServiceSid": "MG0123", "Body": "Hi"}


@pytest.mark.parametrize(("code", "reason"), [
    (21211, "invalid_address"),       # invalid 'To' phone number
    (21614, "invalid_address"),       # not a mobile number
    (21612, "invalid_address"),       # not reachable via SMS
    (21610, "recipient_opted_out"),   # the recipient replied STOP
    (21408, "provider_rejected"),     # the account may not send to that region
    (21602, "provider_rejected"),     # message body is required
])
def test_a_refusal_for_good_is_a_permanent_failure_with_its_reason(
        transport: Transport, twilio_server, sms: Sms, code: int, reason: str) -> None:
    twilio_server.then_error(code, message="The 'To' number +48600100200 is not valid.")
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == reason
    assert caught.value.details["code"] == code
    assert caught.value.details["status"] == 400
    assert f"code {code}" in str(caught.value)


def test_an_invalid_number_is_a_permanent_invalid_address_failure(transport: Transport, twilio_server, sms: Sms) -> None:
    twilio_server.then_error(21211, message="The 'To' number 123 is not a valid phone number.")
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi", to="+48123"), idempotency_key="k")
    assert caught.value.reason == "invalid_address"
    assert caught.value.details["provider"] == "twilio"


@pytest.mark.parametrize(("status", "reason"), [(503, "provider_unavailable"), (500, "provider_unavailable"),
                                                (429, "rate_limited")])
def test_an_overloaded_or_failing_provider_is_a_transient_failure(
        transport: Transport, twilio_server, sms: Sms, status: int, reason: str) -> None:
    twilio_server.then(status, {"code": 20429 if status == 429 else 20500, "message": "busy"}, headers={"Retry-After": "7"})
    with pytest.raises(TransientDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == reason
    assert caught.value.details["retry_after"] == 7.0
    assert caught.value.retry_after == 7.0          # for the core's retry to wait as the provider asked


def test_a_provider_that_hangs_past_the_timeout_is_a_transient_failure(transport: Transport, twilio_server, sms: Sms) -> None:
    twilio_server.then(201, {"sid": "SMlate"}, hang=True)
    with pytest.raises(TransientDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "timeout"
    assert len(twilio_server.requests) == 1


def test_a_refused_connection_is_a_transient_failure(sms_channel: Channel, twilio_config: SmsConfig, sms: Sms,
                                                     connect_transport: ConnectTransport) -> None:
    # Given a port nothing listens on
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = connect_transport(sms_channel, attrs.evolve(twilio_config, base_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(TransientDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "connection_failed"


def test_wrong_credentials_are_a_permanent_provider_auth_failure(
        sms_channel: Channel, twilio_config: SmsConfig, twilio_server, sms: Sms, connect_transport: ConnectTransport) -> None:
    transport = connect_transport(sms_channel, attrs.evolve(twilio_config, auth_token="wrong"))
    with pytest.raises(PermanentDeliveryError) as caught:
        transport.send(sms("Hi"), idempotency_key="k")
    assert caught.value.reason == "provider_auth"
    assert caught.value.details["code"] == 20003
    assert "wrong" not in str(caught.value)


def test_several_sends_share_one_tcp_connection(transport: Transport, twilio_server, sms: Sms) -> None:
    for i in range(4):
        transport.send(sms(f"Message {i}"), idempotency_key=f"k-{i}")
    assert len(twilio_server.requests) == 4
    assert len(twilio_server.connections()) == 1


def test_the_auth_token_may_come_from_the_environment(
        sms_channel: Channel, twilio_config: SmsConfig, twilio_server, sms: Sms, monkeypatch: pytest.MonkeyPatch,
        connect_transport: ConnectTransport) -> None:
    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", twilio_config.auth_token)
    transport = connect_transport(sms_channel, attrs.evolve(twilio_config, auth_token=""))
    receipt = transport.send(sms("Hi"), idempotency_key="k")
    assert receipt.provider_id
    assert twilio_server.requests[0].auth == (twilio_config.account_sid, twilio_config.auth_token)


def test_connect_names_every_missing_setting(sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        sms_channel.connect(SmsConfig())
    assert [p.path for p in caught.value.problems] == [
        "channels.sms.account_sid", "channels.sms.auth_token", "channels.sms.sender"]
    assert "TIDINGS_SMS_AUTH_TOKEN" in str(caught.value)
