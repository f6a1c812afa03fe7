"""The webhook channel keeps the channel contract, against a local HTTP endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tidings import Contact
from tidings.testing import Arrival, ChannelContract, ContractPeer, LocalHttpService

import tidings_webhook.plugin
from tidings_webhook.plugin import WebhookConfig


class TestWebhookChannelContract(ChannelContract):
    plugin = tidings_webhook.plugin
    name = "webhook"
    distribution = "tidings-webhook"
    sample_table = {"url": "https://hooks.example/tidings"}

    @pytest.fixture
    def peer(self, start_service: Callable[[LocalHttpService], LocalHttpService]) -> ContractPeer:
        hooks = start_service(LocalHttpService())   # answers 200 to every request, and keeps them

        def arrivals() -> list[Arrival]:
            return [Arrival(r.headers["idempotency-key"], r.json["parts"]) for r in hooks.accepted()]

        return ContractPeer(settings=WebhookConfig(url=f"{hooks.url}/hook"), contact=Contact(id="c-1"),
                            addresses=("webhook:c-1",), arrivals=arrivals,
                            fail_next=lambda transient: hooks.then(503 if transient else 400))
