"""The SMS channel as the core registers it: through its hook and its entry point."""

from __future__ import annotations

import pytest

from tidings import Contact
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings.testing import Arrival, ChannelContract, ContractPeer, LocalJsonProvider, new_imports

import tidings_sms.plugin
from tidings_sms.addresses import sms_addresses
from tidings_sms.config import SmsConfig

from .conftest import ACCOUNT_SID, FakeProvider

PHONE = "+48600100200"


class TestTwilioChannelContract(ChannelContract):
    """The channel contract, with the twilio provider against a local Twilio Messages API."""

    plugin = tidings_sms.plugin
    name = "sms"
    distribution = "tidings-sms"
    sample_table = {"provider": "twilio", "account_sid": ACCOUNT_SID, "auth_token": "token", "sender": "+48500600700",
                    "default_region": "PL", "transliterate": True}

    @pytest.fixture
    def peer(self, twilio_server: FakeProvider, twilio_config: SmsConfig) -> ContractPeer:
        def arrivals() -> list[Arrival]:
            return [Arrival(r.headers["i-twilio-idempotency-token"], {"text": r.form["Body"]}) for r in twilio_server.accepted()]

        return ContractPeer(settings=twilio_config, contact=Contact(id="c-1", phone=PHONE), addresses=(PHONE,),
                            arrivals=arrivals, fail_next=lambda transient: twilio_server.then(503) if transient
                            else twilio_server.then_error(21211, message="The 'To' number is not a valid phone number"))


class TestJsonChannelContract(ChannelContract):
    """The channel contract, with the json provider against the kit's JSON API, which can look messages up."""

    plugin = tidings_sms.plugin
    name = "sms"
    distribution = "tidings-sms"
    sample_table = {"provider": "json", "url": "https://sms.example/v1/messages", "sender": "Salon",
                    "lookup_url": "https://sms.example/v1/messages/{idempotency_key}"}

    @pytest.fixture
    def peer(self, local_json_provider: LocalJsonProvider) -> ContractPeer:
        provider = local_json_provider
        settings = SmsConfig(provider="json", url=provider.url, lookup_url=provider.url + "/{idempotency_key}",
                             sender="Salon", default_region="PL", timeout=0.5)

        def arrivals() -> list[Arrival]:
            with provider.lock:   # `ids` gains each key as its message is delivered, in the same order
                return [Arrival(key, {"text": m["text"]}) for key, m in zip(provider.ids, provider.delivered)]

        return ContractPeer(settings=settings, contact=Contact(id="c-1", phone="600 100 200"), addresses=(PHONE,),
                            arrivals=arrivals,
                            fail_next=lambda transient: provider.then(503) if transient else provider.then(400, {"code": "X"}))


def test_the_plugin_registers_one_sms_channel_with_one_text_part(sms_channel: Channel) -> None:
    assert list(tidings_sms.plugin.tidings_channels()) == [sms_channel]
    assert sms_channel.name == "sms"
    assert sms_channel.parts == ("text",)
    assert sms_channel.config_type is SmsConfig
    assert sms_channel.addresses is sms_addresses
    assert sms_channel.summary


def heavy(modules: set[str]) -> list[str]:
    """The HTTP machinery among `modules`: what only `connect` may import."""
    return sorted(m for m in modules if m.split(".")[0] in ("httpx", "httpcore")
                  or m in ("tidings_sms.twilio", "tidings_sms.json_api", "tidings_sms.http"))


def test_registering_and_checking_never_import_the_http_client() -> None:
    # `tidings check` and `simulate` use addresses and describe, but never connect
    imported = new_imports(
        "import tidings_sms.plugin as plugin\n"
        "from tidings import Contact\n"
        "[channel] = plugin.tidings_channels()\n"
        "channel.addresses(Contact(id='c', phone='+48600100200'), channel.config_type(default_region='PL'))\n"
        "channel.describe({'text': 'hi'})\n")
    assert heavy(imported) == []


def problems(channel: Channel, settings: SmsConfig) -> list[tuple[str, bool]]:
    assert channel.verify is not None
    return [(p.path, p.warning) for p in channel.verify(settings)]


def test_verify_finds_what_the_twilio_table_lacks_and_warns_of_a_token_absent_here(
        sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    assert problems(sms_channel, SmsConfig()) == [
        ("channels.sms.account_sid", False), ("channels.sms.auth_token", True), ("channels.sms.sender", False)]
    complete = SmsConfig(account_sid="AC1", sender="+48600000000")
    [warning] = sms_channel.verify(complete)  # type: ignore[misc]
    assert warning.message.endswith("is not set here: put $TIDINGS_SMS_AUTH_TOKEN in the worker's environment "
                                    "(or auth_token in this table)")
    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", "secret")
    assert problems(sms_channel, complete) == []


def test_verify_of_the_json_provider_needs_its_url_and_a_token_only_when_headers_use_it(
        sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    assert problems(sms_channel, SmsConfig(provider="json")) == [("channels.sms.url", False)]
    assert problems(sms_channel, SmsConfig(provider="json", url="https://sms.example/send")) == []
    assert problems(sms_channel, SmsConfig(provider="json", url="https://sms.example/send",
                                           headers={"Authorization": "Bearer {auth_token}"})) == [("channels.sms.auth_token", True)]


def test_connect_refuses_what_verify_only_warns_of(sms_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMS_AUTH_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        sms_channel.connect(SmsConfig(account_sid="AC1", sender="+48600000000"))
    assert [(p.path, p.warning) for p in caught.value.problems] == [("channels.sms.auth_token", False)]


def test_verifying_imports_no_http_client() -> None:
    imported = new_imports(
        "import tidings_sms.plugin as plugin\n"
        "[channel] = plugin.tidings_channels()\n"
        "list(channel.verify(channel.config_type(provider='json', url='https://sms.example/send')))\n")
    assert heavy(imported) == []
