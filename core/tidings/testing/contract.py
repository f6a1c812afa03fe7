"""The channel contract: what every channel promises the core, as one test class its plugin's tests run.

Subclass `ChannelContract` in a test module (its name must start with ``Test``), name the plugin
module and the channel, and give a `ContractPeer` fixture: the channel's settings that reach a
local peer (a real server speaking the provider's protocol), a contact it can reach there, and
how to read what arrived and to make the next message fail::

    class TestPostcardChannelContract(ChannelContract):
        plugin = tidings_postcard.plugin
        name = "postcard"
        distribution = "tidings-postcard"
        sample_table = {"url": "https://postcards.example/tidings"}

        @pytest.fixture
        def peer(self, start_service):
            cards = start_service(Postcards())
            return ContractPeer(
                settings=PostcardConfig(url=cards.url + "/postcards"), contact=Contact(id="c-1"), addresses=("postcard:c-1",),
                arrivals=lambda: [Arrival(r.headers["idempotency-key"], r.json["parts"]) for r in cards.accepted()],
                fail_next=lambda transient: cards.then(503 if transient else 400))

The contract checks the registration's shape (the name, a one-line summary, parts with roles, settings
structured from an empty and a sample table, `verify` without network I/O), the addresses of the
sample contact, that a delivered message reaches the peer with its idempotency key, that a
passing failure raises `TransientDeliveryError` and a refusal `PermanentDeliveryError` with a
reason, and, where the transport can `find` a message by its key, that the core would not
deliver one twice. For a provider that takes no key at all (``keyless = True``), what arrived is
counted instead of matched by its key.
"""

from __future__ import annotations

import hashlib
import re
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, ClassVar

import attrs
import pytest
from attrs import frozen

from tidings.errors import PermanentDeliveryError, Problem, TransientDeliveryError
from tidings.models import Contact
from tidings.plugin_types import Channel, Receipt, RenderedMessage, Transport
from tidings.plugins import registry_for
from tidings.store import ScheduleStore
from tidings.testing.settings import settings_from

_REASON = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


@frozen
class Arrival:
    """A message as the channel's peer received it."""

    key: str                        # the idempotency key, where the peer found it (a header, a tag)
    parts: Mapping[str, str]        # the parts the peer could read, by part name


@frozen
class ContractPeer:
    """A channel's local peer, as the contract drives it."""

    settings: Any                                     # the channel's settings, reaching the peer
    contact: Contact                                  # a contact the channel can reach there
    addresses: tuple[str, ...]                        # what `channel.addresses(contact, settings)` gives
    arrivals: Callable[[], Sequence[Arrival]]         # what the peer accepted so far, in order
    fail_next: Callable[[bool], None]                 # True: a failure that may pass; False: a refusal for good
    # the schedule store whose namespace a channel with `uses_store` is connected with (None: a fresh MemoryStore)
    store: ScheduleStore | None = None


def part_names(channel: Channel) -> tuple[str, ...]:
    """The names of a channel's parts, whether it declares them as names or as parts with roles."""
    return tuple(str(getattr(part, "name", part)) for part in channel.parts)


def _key() -> str:
    # the shape of the core's keys: 40 hex digits, another one per test
    return hashlib.sha1(uuid.uuid4().bytes).hexdigest()


class ChannelContract:
    """The behaviour every channel promises the core; subclass it as ``Test<Name>ChannelContract``."""

    plugin: ClassVar[object]                           # the module (or object) registering the channel
    name: ClassVar[str]                                # the channel's name: its entry point's and config key
    distribution: ClassVar[str | None] = None          # the distribution whose entry point names the channel
    sample_table: ClassVar[Mapping[str, Any]] = {}     # a [channels.<name>] table as a deployer writes it
    # the provider takes neither an idempotency key nor data of ours it would echo (Telegram's Bot API): the
    # contract counts what arrived instead of matching its key, and the channel's docs say what a crash yields
    keyless: ClassVar[bool] = False

    @pytest.fixture
    def channel(self) -> Channel:
        return registry_for(self.plugin).channels[self.name]

    @pytest.fixture
    def peer(self) -> ContractPeer:
        pytest.fail(f"{type(self).__name__} must define a `peer` fixture returning a ContractPeer")

    @pytest.fixture
    def transport(self, channel: Channel, peer: ContractPeer, connect_transport: Callable[..., Transport]) -> Transport:
        return connect_transport(channel, peer.settings, peer.store)

    @pytest.fixture
    def message(self, channel: Channel, peer: ContractPeer) -> RenderedMessage:
        parts = {part: f"The {part} of the contract test." for part in part_names(channel)}
        return RenderedMessage(channel=self.name, to=peer.addresses[0], parts=parts, rule="contract",
                               subject="contract-1", recipient=peer.contact, locale="en", addresses=peer.addresses)

    # ------------------------------------------------------------ registration

    def test_the_plugin_registers_exactly_this_channel(self, channel: Channel) -> None:
        assert list(registry_for(self.plugin).channels) == [self.name]
        assert channel.name == self.name
        assert channel.summary.strip() and "\n" not in channel.summary, "the summary is one line"
        names = part_names(channel)
        assert names and len(set(names)) == len(names), f"parts must be distinct and not empty: {names!r}"
        assert all(name.isidentifier() for name in names), names
        # the core maps built-in texts and the delivery log by role (docs/hooks.md, "Part roles")
        assert all(channel.role(name) for name in names), \
            f"every part has a role: {[n for n in names if not channel.role(n)]!r} have none (give them in roles=)"

    def test_the_entry_point_named_after_the_channel_loads_the_plugin(self) -> None:
        if not isinstance(self.plugin, ModuleType) or self.distribution is None:
            pytest.skip("the channel is registered by an object of the test's own, not by an entry point")
        found = [ep for ep in entry_points(group="tidings.channels") if ep.name == self.name]
        assert len(found) == 1, f"one entry point named {self.name!r} in tidings.channels, found {len(found)}"
        [entry_point] = found
        assert entry_point.value == self.plugin.__name__
        assert entry_point.load() is self.plugin
        assert entry_point.dist is not None and entry_point.dist.metadata["Name"] == self.distribution

    def test_the_settings_are_structured_from_an_empty_and_a_sample_table(self, channel: Channel) -> None:
        assert attrs.has(channel.config_type), "config_type is an attrs class the core can structure"
        for table in ({}, self.sample_table):
            settings = settings_from(self.plugin, self.name, table)
            assert isinstance(settings, channel.config_type)

    def test_verify_finds_problems_without_network_io(self, channel: Channel, peer: ContractPeer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        if channel.verify is None:
            pytest.skip("the channel has no verify")
        empty = settings_from(self.plugin, self.name, {})
        calls: list[str] = []
        with monkeypatch.context() as patched:
            for target, attribute in ((socket.socket, "connect"), (socket, "create_connection"), (socket, "getaddrinfo")):
                patched.setattr(target, attribute, _refuse(calls, attribute))
            found = [*channel.verify(empty), *channel.verify(peer.settings)]
        assert calls == [], "verify opened a connection or resolved a name"
        assert all(isinstance(p, Problem) and p.path.startswith((f"channels.{self.name}", "$")) for p in found), found
        assert list(channel.verify(peer.settings)) == [], "the settings that reach the peer are complete"

    # ------------------------------------------------------------ addresses

    def test_the_sample_contact_has_its_addresses_and_an_empty_one_none(self, channel: Channel,
                                                                       peer: ContractPeer) -> None:
        assert tuple(channel.addresses(peer.contact, peer.settings)) == peer.addresses
        assert not channel.addresses(Contact(id=""), peer.settings)

    # ------------------------------------------------------------ delivery

    def test_a_delivered_message_reaches_the_peer_with_its_idempotency_key(
            self, transport: Transport, peer: ContractPeer, message: RenderedMessage) -> None:
        key = _key()
        receipt = transport.send(message, idempotency_key=key)
        assert isinstance(receipt, Receipt)
        [arrival] = peer.arrivals()
        assert self.keyless or arrival.key == key
        assert arrival.parts and {part: text.strip() for part, text in arrival.parts.items()} == {
            part: message.parts[part] for part in arrival.parts}

    def test_a_failure_that_may_pass_is_transient_and_the_retry_is_delivered(
            self, transport: Transport, peer: ContractPeer, message: RenderedMessage) -> None:
        key = _key()
        peer.fail_next(True)
        with pytest.raises(TransientDeliveryError) as failure:
            transport.send(message, idempotency_key=key)
        assert _REASON.fullmatch(failure.value.reason), failure.value.reason
        assert peer.arrivals() == []
        transport.send(message, idempotency_key=key)
        assert [arrival.key if not self.keyless else key for arrival in peer.arrivals()] == [key]

    def test_a_refusal_is_permanent_with_a_reason(self, transport: Transport, peer: ContractPeer,
                                                  message: RenderedMessage) -> None:
        peer.fail_next(False)
        with pytest.raises(PermanentDeliveryError) as refusal:
            transport.send(message, idempotency_key=_key())
        reason = refusal.value.reason
        assert _REASON.fullmatch(reason) and reason != "delivery_failed", f"a reason of the channel's own: {reason!r}"
        assert peer.arrivals() == []

    def test_a_message_found_by_its_key_is_not_delivered_twice(self, transport: Transport, peer: ContractPeer,
                                                               message: RenderedMessage) -> None:
        find = getattr(transport, "find", None)
        if not callable(find):
            pytest.skip("the transport cannot find a message by its idempotency key")
        key = _key()
        sent = transport.send(message, idempotency_key=key)
        found = find(idempotency_key=key)
        assert isinstance(found, Receipt) and found.provider_id == sent.provider_id
        assert find(idempotency_key=_key()) is None
        assert [arrival.key if not self.keyless else key for arrival in peer.arrivals()] == [key]


def _refuse(calls: list[str], name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        raise OSError(f"the channel contract forbids network I/O here ({name})")
    return refuse


__all__ = ["Arrival", "ChannelContract", "ContractPeer", "part_names"]
