"""The manual channel keeps the channel contract, its peer the schedule store reached through a TCP relay."""

from __future__ import annotations

import pytest

import tidings_manual.plugin
from tidings import Contact
from tidings.store import PluginData
from tidings.store.redis import RedisStore
from tidings.testing import Arrival, ChannelContract, ContractPeer
from tidings_manual.config import ManualConfig
from tidings_manual.transport import QUEUED

from .conftest import Relay


class TestManualChannelContract(ChannelContract):
    plugin = tidings_manual.plugin
    name = "manual"
    distribution = "tidings-manual"
    sample_table = {"links": ["whatsapp", "email"], "max_age": "2d", "default_region": "PL"}

    @pytest.fixture
    def peer(self, relayed_store: RedisStore, relay: Relay) -> ContractPeer:
        data = PluginData(relayed_store, "manual")

        def arrivals() -> list[Arrival]:
            records = [data.get(ident) for ident in data.items(QUEUED)]
            return [Arrival(r["key"], {"subject": r["title"], "text": r["text"]}) for r in records if r]

        def fail_next(transient: bool) -> None:
            if not transient:
                pytest.skip("a queue in the deployment's own store has no provider that could refuse a message for "
                            "good; a contact the channel cannot reach has no address, and the next channel is tried")
            relay.cut_next()

        return ContractPeer(settings=ManualConfig(), store=relayed_store,
                            contact=Contact(id="c-1", name="Ola", phone="+48 600 100 200", email="ola@example.com"),
                            addresses=("+48600100200", "ola@example.com"), arrivals=arrivals, fail_next=fail_next)


def test_the_channel_says_it_queues_and_keeps_data_in_the_store() -> None:
    from tidings.plugins import registry_for

    registry = registry_for(tidings_manual.plugin)
    channel = registry.channels["manual"]
    assert (channel.outcome, channel.uses_store) == ("queued", True)
    assert {part: channel.role(part) for part in channel.parts} == {"subject": "title", "text": "short"}
    assert list(registry.commands) == ["manual"]


