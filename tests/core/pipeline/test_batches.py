"""Due messages go to dispatch in batches, and a worker delivers a batch at once (tidings.pipeline.scheduler, build)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dramatiq import Message
from dramatiq.brokers.stub import StubBroker

from tidings.deployment import Deployment
from tidings.pipeline import build_pipeline, connect_transports
from tidings.pipeline.scheduler import BATCH
from tidings.store.memory import MemoryStore
from tidings.testing import StubPipeline
from tidings.testing.http import Reply, Request
from tidings.testing.providers import LocalJsonProvider


def event(n: int) -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T10:00:00+01:00",
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": f"c-{n}", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True}}}}


def sms_deployment(url: str) -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
        "channels": {"sms": {"provider": "json", "url": url, "lookup_url": url + "/{idempotency_key}",
                             "sender": "Salon", "default_region": "PL"}},
        "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms", "template": "booked"}],
        "templates": {"booked": {"sms": "Booked {{ subject.id }}"}}})


class MeetingProvider(LocalJsonProvider):
    """The kit's JSON SMS provider, answering no POST until `together` of them are in flight at once."""

    def __init__(self, together: int) -> None:
        self.barrier = threading.Barrier(together, timeout=20)
        super().__init__()

    def handle(self, request: Request) -> Reply:
        if request.method == "POST" and not self.barrier.broken:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                return Reply(503, {"error": "the requests did not come together"})
        return super().handle(request)


@pytest.fixture
def meeting() -> Iterator[MeetingProvider]:
    provider = MeetingProvider(together=5)
    yield provider
    provider.stop()


@pytest.fixture
def provider() -> Iterator[LocalJsonProvider]:
    provider = LocalJsonProvider()
    yield provider
    provider.stop()


def deliver(stub: StubPipeline, count: int) -> None:
    for n in range(count):
        stub.pipeline.publish(event(n))
    stub.broker.join(stub.pipeline.queue, timeout=60_000, fail_fast=True)
    stub.pipeline.enqueue_due()
    stub.broker.join(stub.pipeline.queue, timeout=60_000, fail_fast=True)


def test_the_scheduler_hands_due_messages_over_one_dispatch_message_per_batch() -> None:
    # Given 120 messages due now, planned without a worker
    broker = StubBroker()
    pipeline = build_pipeline(broker, sms_deployment("http://127.0.0.1:9/messages"), MemoryStore(), transports={})
    for n in range(120):
        pipeline.ingest(event(n))

    # When the scheduler claims them
    assert pipeline.enqueue_due() == 120

    # Then they wait in the queue as three dispatch messages of at most BATCH slots, each slot in one of them
    queue = broker.queues[pipeline.queue]
    batches = [Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
    assert [len(batch.args[0]) for batch in batches] == [BATCH, BATCH, 120 - 2 * BATCH]
    assert all(batch.actor_name == "tidings_dispatch" for batch in batches)
    slots = [slot for batch in batches for slot, _ in batch.args[0]]
    assert len(set(slots)) == 120 and all(pipeline.store.pending(slot) is not None for slot in slots)


def test_a_worker_delivers_the_messages_of_a_batch_at_once_each_once(
        meeting: MeetingProvider, start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given a provider that answers no message until five of them are on the wire together, and a
    # worker with one thread that delivers eight at once
    deployment = sms_deployment(meeting.url)
    stub = start_pipeline(deployment, transports=connect_transports(deployment), concurrency=8)

    # When five messages fall due
    deliver(stub, 5)

    # Then they came together, and each was delivered once and logged sent
    assert not meeting.barrier.broken
    assert sorted(m["text"] for m in meeting.delivered) == [f"Booked a-{n}" for n in range(5)]
    assert set(meeting.posts.values()) == {1}
    for n in range(5):
        assert [e["status"] for e in stub.pipeline.store.log(subject=f"a-{n}")] == ["scheduled", "sent"]
    assert stub.pipeline.store.count_pending() == 0


def test_a_message_of_a_batch_that_fails_for_now_is_retried_alone_and_the_rest_delivered_once(
        provider: LocalJsonProvider, start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given a provider that answers the first request 503 (the message may be delivered later)
    provider.then(503, {"error": "busy"})
    deployment = sms_deployment(provider.url)
    stub = start_pipeline(deployment, transports=connect_transports(deployment), concurrency=4)

    # When a batch of six messages falls due
    deliver(stub, 6)

    # Then all six were delivered, each once: the one refused was looked up, then sent again by itself
    assert sorted(m["text"] for m in provider.delivered) == [f"Booked a-{n}" for n in range(6)]
    assert [reply.status for reply in provider.replies].count(503) == 1
    assert len(provider.posts) == 6 and set(provider.posts.values()) == {1} and dict(provider.lookups) == {"missing": 1}
    for n in range(6):
        assert [e["status"] for e in stub.pipeline.store.log(subject=f"a-{n}")] == ["scheduled", "sent"]
    assert stub.pipeline.store.count_pending() == 0


class StoreLosingOneRead(MemoryStore):
    """A memory store whose first read of one slot, once armed, meets Redis out of reach (redis's own ConnectionError)."""

    def __init__(self, slot_of: str) -> None:
        super().__init__()
        self.slot_of, self.failed, self.armed = slot_of, 0, False

    def pending(self, slot: str) -> Any:
        if self.armed and self.slot_of in slot and not self.failed:
            import redis
            self.failed += 1
            raise redis.ConnectionError("Connection closed by server.")
        return super().pending(slot)


def test_a_message_of_a_batch_whose_store_is_out_of_reach_is_sent_on_soon_not_left_to_its_lease(
        provider: LocalJsonProvider) -> None:
    broker = StubBroker()
    deployment = sms_deployment(provider.url)
    store = StoreLosingOneRead("evt-1|")
    transports = connect_transports(deployment)
    pipeline = build_pipeline(broker, deployment, store, transports=transports, concurrency=2)
    try:
        dispatch_with_the_store_out_of_reach_once(pipeline, broker, store, provider)
    finally:
        for transport in transports.values():
            getattr(transport, "close", lambda: None)()


def dispatch_with_the_store_out_of_reach_once(pipeline: Any, broker: StubBroker, store: StoreLosingOneRead,
                                              provider: LocalJsonProvider) -> None:
    from tidings.pipeline.retries import FAILURE_OPTION, UNREACHABLE_RETRY_S

    # Given a batch of three due messages, and the store out of reach when the worker reads one of them
    for n in range(3):
        pipeline.ingest(event(n))
    assert pipeline.enqueue_due() == 3
    batch = Message.decode(broker.queues[pipeline.queue].get_nowait())
    store.armed = True

    # When a worker dispatches the batch
    assert pipeline.actors is not None
    pipeline.actors.dispatch.fn(*batch.args)

    # Then the other two were delivered, and that one was sent on by itself a second later (its batch message
    # was acknowledged: left to its lease, it would have waited five minutes), with no failure noted for it
    assert store.failed == 1
    assert sorted(m["text"] for m in provider.delivered) == ["Booked a-0", "Booked a-2"]
    delayed = broker.queues[f"{pipeline.queue}.DQ"]
    [again] = [Message.decode(delayed.get_nowait()) for _ in range(delayed.qsize())]
    assert [slot for slot, _ in again.args[0]] == [s for s, _ in batch.args[0] if "evt-1|" in s]
    assert FAILURE_OPTION not in again.options
    assert again.options["eta"] - again.message_timestamp >= UNREACHABLE_RETRY_S * 1000

    # and dispatched again, it is delivered once
    pipeline.actors.dispatch.fn(*again.args)
    assert sorted(m["text"] for m in provider.delivered) == ["Booked a-0", "Booked a-1", "Booked a-2"]
    assert store.count_pending() == 0
