"""The postcard channel keeps the channel contract, against a local HTTP endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tidings import Contact
from tidings.testing import Arrival, ChannelContract, ContractPeer, LocalHttpService

import tidings_postcard.plugin
from tidings_postcard.plugin import PostcardConfig


class TestPostcardChannelContract(ChannelContract):
    plugin = tidings_postcard.plugin
    name = "postcard"
    distribution = "tidings-postcard"
    sample_table = {"url": "https://postcards.example/tidings"}

    @pytest.fixture
    def peer(self, start_service: Callable[[LocalHttpService], LocalHttpService]) -> ContractPeer:
        cards = start_service(LocalHttpService())   # answers 200 to every request, and keeps them

        def arrivals() -> list[Arrival]:
            return [Arrival(r.headers["idempotency-key"], r.json["parts"]) for r in cards.accepted()]

        return ContractPeer(settings=PostcardConfig(url=f"{cards.url}/postcards"), contact=Contact(id="c-1"),
                            addresses=("postcard:c-1",), arrivals=arrivals,
                            fail_next=lambda transient: cards.then(503 if transient else 400))
