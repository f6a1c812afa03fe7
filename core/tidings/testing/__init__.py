"""The test kit for plugin authors and hosts: an opt-in pytest plugin, like ``pytester``.

Enable it in the ``conftest.py`` at the root of your tests (tidings' own tests do exactly this)::

    pytest_plugins = ["tidings.testing"]

No fixture is autouse: a test gets what it names.

Fixtures:
    start_pipeline: ``start_pipeline(deployment, transports=..., store=..., clock=...)`` starts the real
        pipeline on Dramatiq's StubBroker with a worker thread (`StubPipeline`); channels without
        a transport of the test's own record what they would send.
    virtual_clock: a `VirtualClock` standing at `NOW` until told to move.
    connect_transport: ``connect_transport(channel, settings)``, the channel's real transport,
        closed after the test.
    start_service: ``start_service(MyProvider())`` starts a local service (a `LocalHttpService`
        subclass speaking a provider's protocol) and stops it after the test.
    local_json_provider: a running `LocalJsonProvider`, the fake JSON SMS API.
    start_smtp_server, smtp_server: aiosmtpd on an ephemeral port (`SmtpServer`), optionally
        requiring STARTTLS (or implicit TLS) with a certificate from `tls_files`, and AUTH.
    redis_url, redis_store: the shared Redis, and a store under a fresh key prefix of its own.
    private_redis: a redis-server of the test's own, for tests that kill or flush it.
    rabbitmq_url: the shared RabbitMQ.

Every service is skipped locally when it is missing and fails the test under ``CI=true``
(`unavailable`). `ChannelContract` is the test class every channel plugin runs, and
`new_imports` tells what a piece of code imports (heavy imports belong inside ``connect``);
`table_problems` and `settings_from` structure a channel's table as the core does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

# the contract's assertions are rewritten only when registered before it is imported
pytest.register_assert_rewrite("tidings.testing.contract")

from tidings.clock import VirtualClock  # noqa: E402
from tidings.plugin_types import Channel, Transport  # noqa: E402
from tidings.plugins import registry_for  # noqa: E402
from tidings.recording import RecordingTransport  # noqa: E402
from tidings.testing.contract import Arrival, ChannelContract, ContractPeer, part_names  # noqa: E402
from tidings.testing.http import LocalHttpService, Reply, Request  # noqa: E402
from tidings.testing.imports import new_imports  # noqa: E402
from tidings.testing.pipeline import StubPipeline  # noqa: E402
from tidings.testing.providers import LocalJsonProvider  # noqa: E402
from tidings.testing.services import PrivateRedis, Service, running, unavailable  # noqa: E402
from tidings.testing.settings import settings_from, table_problems  # noqa: E402
from tidings.testing.services import rabbitmq_url as _rabbitmq_url  # noqa: E402
from tidings.testing.services import redis_store as _redis_store  # noqa: E402
from tidings.testing.services import redis_url as _redis_url  # noqa: E402
from tidings.testing.smtp import Received, Recorder, SmtpServer, TlsFiles  # noqa: E402

if TYPE_CHECKING:
    from tidings.deployment import Deployment
    from tidings.rules import Config
    from tidings.store import ScheduleStore
    from tidings.store.redis import RedisStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)   # where `virtual_clock` stands: a Monday morning
S = TypeVar("S", bound=Service)
ConnectTransport = Callable[[Channel, Any], Transport]   # the type of the `connect_transport` fixture


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """A clock standing at `NOW` until the test moves it."""
    return VirtualClock(NOW)


@pytest.fixture
def start_pipeline(virtual_clock: VirtualClock) -> Iterator[Callable[..., StubPipeline]]:
    """Start pipelines: ``start_pipeline(deployment, transports=None, store=None, clock=None)``; all stop after the test."""
    with ExitStack() as stack:
        def start(config: Deployment | Config, *, transports: dict[str, Transport] | None = None,
                  store: ScheduleStore | None = None, clock: VirtualClock | None = None,
                  min_backoff_ms: int = 10, max_backoff_ms: int = 200) -> StubPipeline:
            return stack.enter_context(StubPipeline.start(config, clock=clock or virtual_clock, store=store,
                                                          transports=transports, min_backoff_ms=min_backoff_ms,
                                                          max_backoff_ms=max_backoff_ms))

        yield start


@pytest.fixture
def connect_transport() -> Iterator[ConnectTransport]:
    """Connect channels: ``connect_transport(channel, settings)`` is its real transport, closed after the test."""
    with ExitStack() as stack:
        yield lambda channel, settings: stack.enter_context(closing(channel.connect(settings)))


@pytest.fixture
def start_service() -> Iterator[Callable[[S], S]]:
    """Start local services: ``start_service(MyProvider())``; each stops after the test (unavailable if it cannot start)."""
    with ExitStack() as stack:
        yield lambda service: stack.enter_context(running(service))


@pytest.fixture
def local_json_provider() -> Iterator[LocalJsonProvider]:
    """A running `LocalJsonProvider`: point ``[channels.sms] url`` at its `url`."""
    try:
        provider = LocalJsonProvider()
    except OSError as e:
        unavailable(f"the local JSON provider could not start: {e!r}")
    with running(provider):
        yield provider


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A server TLS context with a certificate for 127.0.0.1 from a test CA, and that CA's PEM file."""
    try:
        return TlsFiles.make(tmp_path_factory.mktemp("tls"))
    except ImportError:
        unavailable("trustme is not installed: it makes the test CA and certificate (pip install trustme)")


@pytest.fixture
def start_smtp_server(request: pytest.FixtureRequest, start_service: Callable[[SmtpServer], SmtpServer]
                      ) -> Callable[..., SmtpServer]:
    """Start SMTP servers: ``start_smtp_server(security="starttls", accounts={...}, **aiosmtpd_options)``."""

    def start(*, security: str = "none", smtputf8: bool = True, accounts: dict[str, str] | None = None,
              **options: Any) -> SmtpServer:
        tls = request.getfixturevalue("tls_files") if security != "none" else None
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            unavailable("aiosmtpd is not installed: it is the local SMTP server (pip install aiosmtpd)")
        return start_service(SmtpServer(security=security, tls=tls, smtputf8=smtputf8, accounts=dict(accounts or {}),
                                        options=options))

    return start


@pytest.fixture
def smtp_server(start_smtp_server: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server (no TLS, no AUTH, SMTPUTF8 offered), like a local relay."""
    return start_smtp_server()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis (``TIDINGS_TEST_REDIS_URL``): use a unique key prefix and never flush it."""
    return _redis_url()


@pytest.fixture
def redis_store(redis_url: str) -> Iterator[RedisStore]:
    """A `RedisStore` under a fresh random key prefix; its keys, and only its keys, are deleted afterwards."""
    with _redis_store(redis_url) as store:
        yield store


@pytest.fixture
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server of the test's own on a spare port, stopped by its PID afterwards."""
    with running(PrivateRedis(folder=tmp_path_factory.mktemp("redis"))) as server:
        yield server.url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The shared RabbitMQ (``TIDINGS_TEST_AMQP_URL``); a test declares queues of its own only."""
    return _rabbitmq_url()


__all__ = [
    # Fixtures
    "virtual_clock", "start_pipeline", "connect_transport", "start_service", "local_json_provider", "tls_files", "start_smtp_server",
    "smtp_server", "redis_url", "redis_store", "private_redis", "rabbitmq_url",
    # Helpers
    "NOW", "ConnectTransport", "unavailable", "running", "new_imports", "registry_for", "RecordingTransport", "StubPipeline", "LocalHttpService",
    "Request", "Reply", "LocalJsonProvider", "SmtpServer", "Recorder", "Received", "TlsFiles", "PrivateRedis",
    # The channel contract
    "ChannelContract", "ContractPeer", "Arrival", "part_names", "settings_from", "table_problems",
]
