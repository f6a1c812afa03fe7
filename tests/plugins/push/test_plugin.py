"""The push channel as the core registers it: through its hook and its entry point."""

from __future__ import annotations

import pytest
import tidings_push.plugin
from tidings import Contact
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings.testing import Arrival, ChannelContract, ContractPeer, new_imports
from tidings_push.addresses import push_addresses
from tidings_push.config import VAPID_KEY_ENV, PushConfig

from .conftest import PushService

SUBJECT = "mailto:ops@salon.example"


class TestPushChannelContract(ChannelContract):
    """The channel contract, against a local push service that checks VAPID and decrypts what it gets."""

    plugin = tidings_push.plugin
    name = "push"
    distribution = "tidings-push"
    sample_table = {"vapid_subject": SUBJECT, "ttl": 3600, "urgency": "high", "timeout": 5.0}

    @pytest.fixture
    def peer(self, push_service: PushService, push_config: PushConfig, server_key: str) -> ContractPeer:
        browser = push_service.subscribe(server_key=server_key)

        def arrivals() -> list[Arrival]:
            # the push payload carries the idempotency key as the notification's tag
            return [Arrival(r.message["tag"], {"title": r.message["title"], "body": r.message["body"]})
                    for r in push_service.received]

        return ContractPeer(settings=push_config, contact=Contact(id="c-1", push=(browser.subscription,)),
                            addresses=(browser.endpoint,), arrivals=arrivals,
                            fail_next=lambda transient: push_service.then(503 if transient else 400))


def test_the_plugin_registers_one_push_channel_with_a_title_and_a_body(push_channel: Channel) -> None:
    assert list(tidings_push.plugin.tidings_channels()) == [push_channel]
    assert push_channel.name == "push"
    assert push_channel.parts == ("title", "body")
    assert push_channel.config_type is PushConfig
    assert push_channel.addresses is push_addresses
    assert push_channel.summary


def test_connecting_without_a_key_or_a_subject_lists_both_problems(
        push_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAPID_KEY_ENV, raising=False)

    with pytest.raises(ConfigError) as error:
        push_channel.connect(None)

    assert [p.path for p in error.value.problems] == ["channels.push.vapid_private_key", "channels.push.vapid_subject"]
    assert f"${VAPID_KEY_ENV}" in error.value.problems[0].message


def test_connecting_takes_the_key_from_the_environment(
        push_channel: Channel, vapid_pem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAPID_KEY_ENV, vapid_pem)

    transport = push_channel.connect(PushConfig(vapid_subject=SUBJECT))
    transport.close()


def test_a_broken_key_in_the_environment_is_reported_under_its_variable(
        push_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAPID_KEY_ENV, "not-a-key")

    with pytest.raises(ConfigError) as error:
        push_channel.connect(PushConfig(vapid_subject=SUBJECT))

    [problem] = error.value.problems
    assert problem.path == f"${VAPID_KEY_ENV}"
    assert "not-a-key" not in problem.message


def test_registering_and_finding_addresses_never_import_the_crypto_and_http_stack() -> None:
    # `tidings check` and `simulate` use addresses and the config type, but never connect
    imported = new_imports(
        "import tidings_push.plugin as plugin\n"
        "from tidings import Contact, PushSubscription\n"
        "[channel] = plugin.tidings_channels()\n"
        "keys = {'p256dh': 'B' + 'A' * 86, 'auth': 'A' * 22}\n"
        "contact = Contact(id='c', push=(PushSubscription('https://push.example/a', keys),))\n"
        "assert channel.addresses(contact, channel.config_type(vapid_subject='mailto:a@b.example'))\n")
    heavy = ("pywebpush", "py_vapid", "http_ece", "cryptography", "requests", "aiohttp", "urllib3")

    assert sorted(m for m in imported if m.split(".")[0] in heavy
                  or m in ("tidings_push.webpush", "tidings_push.keys")) == []


def test_verify_needs_a_subject_and_warns_of_a_key_absent_or_unreadable_in_the_environment(
        push_channel: Channel, vapid_pem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert push_channel.verify is not None
    monkeypatch.delenv(VAPID_KEY_ENV, raising=False)
    assert [(p.path, p.warning) for p in push_channel.verify(PushConfig())] == [
        ("channels.push.vapid_private_key", True), ("channels.push.vapid_subject", False)]
    monkeypatch.setenv(VAPID_KEY_ENV, "not-a-key")
    assert [(p.path, p.warning) for p in push_channel.verify(PushConfig(vapid_subject=SUBJECT))] == [(f"${VAPID_KEY_ENV}", True)]
    monkeypatch.setenv(VAPID_KEY_ENV, vapid_pem)
    assert list(push_channel.verify(PushConfig(vapid_subject=SUBJECT))) == []
    # a key written in the table was checked when the table was read; verify has nothing to add
    assert list(push_channel.verify(PushConfig(vapid_private_key=vapid_pem, vapid_subject=SUBJECT))) == []
