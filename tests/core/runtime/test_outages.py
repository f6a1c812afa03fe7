"""Outages told once and waited out: `Outage`, `Backoff`, `keep_trying`, `is_connection_error` and Dramatiq's lines quieted."""

from __future__ import annotations

import logging

import pytest

from tidings.runtime.outages import Backoff, Outage, QuietReconnects, is_connection_error, keep_trying


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.tidings["event"] for r in caplog.records if hasattr(r, "tidings")]


def test_an_outage_is_one_line_when_it_begins_and_one_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    outage = Outage("store", "scheduler")
    outage.succeeded()
    for _ in range(5):
        outage.failed(ConnectionRefusedError(111, "Connection refused to +48 600 100 200"))
    assert outage.down
    outage.succeeded()
    outage.succeeded()
    assert events(caplog) == ["store_unreachable", "store_reconnected"]
    failed, recovered = (r.tidings for r in caplog.records)
    assert failed["process"] == "scheduler" and "600100200" not in failed["error"].replace(" ", "")
    assert recovered["down_seconds"] >= 0


def test_backoff_doubles_up_to_its_cap_and_starts_again_after_a_reset() -> None:
    backoff = Backoff(first=0.5, cap=3.0)
    assert [backoff.delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.delay() == 0.5


def test_keep_trying_retries_connection_errors_until_it_succeeds_and_raises_others_at_once() -> None:
    answers: list[BaseException | str] = [ConnectionResetError(), TimeoutError(), "done"]

    def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    outage = Outage("broker", "publish")
    assert keep_trying(call, outage=outage, within=10, backoff=Backoff(first=0.001)) == "done"
    assert not outage.down
    with pytest.raises(ValueError):
        keep_trying(lambda: int("x"), outage=outage, within=10)


def test_keep_trying_gives_up_with_the_connection_error_after_its_time() -> None:
    def unreachable() -> None:
        raise ConnectionRefusedError(111, "refused")

    outage = Outage("broker", "publish")
    with pytest.raises(ConnectionRefusedError):
        keep_trying(unreachable, outage=outage, within=0.05, backoff=Backoff(first=0.01))
    assert outage.down


def test_connection_errors_of_redis_dramatiq_and_pika_are_told_from_other_errors() -> None:
    import redis
    from dramatiq.errors import ConnectionClosed
    from pika import exceptions

    assert is_connection_error(redis.ConnectionError("gone"))
    assert is_connection_error(redis.TimeoutError("slow"))
    assert is_connection_error(ConnectionClosed(Exception("gone")))
    assert is_connection_error(exceptions.AMQPConnectionError("gone"))
    assert is_connection_error(ConnectionRefusedError(111, "refused"))
    assert not is_connection_error(redis.ResponseError("WRONGTYPE"))
    assert not is_connection_error(ValueError("bad"))
    assert not is_connection_error(FileNotFoundError(2, "no such file", "x.toml"))


def test_dramatiqs_repeated_reconnection_lines_become_one_outage_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    outage = Outage("broker", "worker")
    quiet = QuietReconnects(outage)
    consumer = logging.getLogger("dramatiq.worker.ConsumerThread(tidings)")
    record = consumer.makeRecord(consumer.name, logging.CRITICAL, __file__, 1,
                                 "Consumer encountered a connection error: %s", (ConnectionError("refused"),), None)
    restart = consumer.makeRecord(consumer.name, logging.INFO, __file__, 1, "Restarting consumer in %0.2f seconds.", (3.0,), None)
    other = consumer.makeRecord(consumer.name, logging.ERROR, __file__, 1, "Something else", (), None)
    assert [quiet.filter(r) for r in (record, record, restart, other)] == [False, False, False, True]
    assert events(caplog) == ["broker_unreachable"]
    assert "ConnectionError: refused" in caplog.records[0].tidings["error"]


def test_a_message_that_lost_the_store_is_told_as_the_stores_outage_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    import redis
    caplog.set_level(logging.WARNING)
    store = Outage("store", "worker")
    quiet = QuietReconnects(Outage("broker", "worker"), store=store)
    worker = logging.getLogger("dramatiq.worker.WorkerThread")
    try:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except redis.ConnectionError:
        import sys
        lost = worker.makeRecord(worker.name, logging.ERROR, __file__, 1, "Failed to process message %s with unhandled exception.",
                                 ("tidings_dispatch('slot', 1)",), sys.exc_info())
    assert quiet.filter(lost) is False
    assert store.down and events(caplog) == ["store_unreachable"]


def test_a_dispatch_that_lost_the_store_is_retried_soon_and_other_errors_are_not() -> None:
    import redis

    from tidings.pipeline.retries import MAX_RETRIES, retry_when
    assert retry_when(0, redis.ConnectionError("reset"))
    assert not retry_when(MAX_RETRIES, redis.ConnectionError("reset"))
    assert not retry_when(0, KeyError("a bug"))
