"""The channel contract fails a channel that breaks it: each promise, broken on purpose, fails its own tests.

A small webhook-like channel runs the contract in a pytest of its own (in a subprocess): once as
written, and once per way of breaking it, each a test class of its own.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict

import pytest

BROKEN = ("nothing", "role", "key", "verify_io", "transient_as_permanent", "no_reason", "find")

CHANNEL = '''
import json, socket, urllib.error, urllib.request

import pytest
from attrs import define, field, frozen

from tidings import Channel, PermanentDeliveryError, Problem, Receipt, TransientDeliveryError, hookimpl
from tidings.models import Contact
from tidings.testing import Arrival, ChannelContract, ContractPeer, LocalHttpService, Reply


@frozen
class HookConfig:
    url: str = ""


@define
class HookTransport:
    settings: HookConfig
    broken: str
    sent: dict = field(factory=dict)

    def send(self, message, *, idempotency_key):
        key = "" if self.broken == "key" else idempotency_key
        request = urllib.request.Request(self.settings.url, data=json.dumps(dict(message.parts)).encode(),
                                         headers={"Idempotency-Key": key}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                receipt = Receipt(provider_id=json.loads(answer.read())["id"])
        except urllib.error.HTTPError as e:
            e.close()
            if e.code >= 500 and self.broken != "transient_as_permanent":
                raise TransientDeliveryError(f"answered {e.code}", reason="provider_unavailable") from None
            if self.broken == "no_reason":
                raise PermanentDeliveryError(f"answered {e.code}") from None
            raise PermanentDeliveryError(f"answered {e.code}", reason="provider_rejected") from None
        self.sent[idempotency_key] = receipt
        return receipt

    def find(self, *, idempotency_key):
        return None if self.broken == "find" else self.sent.get(idempotency_key)

    def close(self):
        pass


@define
class Plugin:
    broken: str

    def verify(self, settings):
        if self.broken == "verify_io":
            socket.getaddrinfo("hooks.example", 443)
        if not settings.url:
            yield Problem("channels.hook.url", "is required")

    @hookimpl
    def tidings_channels(self):
        parts = ("text", "footer") if self.broken == "role" else ("text",)
        yield Channel(name="hook", summary="POST to a hook", parts=parts, config_type=HookConfig,
                      addresses=lambda contact, settings: (f"hook:{contact.id}",) if contact.id else (),
                      connect=lambda settings: HookTransport(settings, self.broken), verify=self.verify)


class Hooks(LocalHttpService):
    def respond(self, request):
        return Reply(201, {"id": f"h-{len(self.requests)}"})


class HookContract(ChannelContract):
    name = "hook"
    sample_table = {"url": "https://hooks.example/x"}

    @pytest.fixture
    def peer(self, start_service):
        hooks = start_service(Hooks())
        return ContractPeer(settings=HookConfig(url=hooks.url), contact=Contact(id="c-1"), addresses=("hook:c-1",),
                            arrivals=lambda: [Arrival(r.headers["idempotency-key"], r.json) for r in hooks.accepted()],
                            fail_next=lambda transient: hooks.then(503 if transient else 400))
'''

CLASS = '''

class Test_{broken}(HookContract):
    plugin = Plugin({broken!r})
'''

# a provider that takes no key (Telegram's Bot API) may say so: what arrived is counted, not matched by key
KEYLESS = '''

class Test_keyless(HookContract):
    plugin = Plugin("key")
    keyless = True
'''

DELIVERED = "test_a_delivered_message_reaches_the_peer_with_its_idempotency_key"
TRANSIENT = "test_a_failure_that_may_pass_is_transient_and_the_retry_is_delivered"
FOUND = "test_a_message_found_by_its_key_is_not_delivered_twice"
FAILING = {
    "nothing": set(),
    "role": {"test_the_plugin_registers_exactly_this_channel"},
    "key": {DELIVERED, TRANSIENT, FOUND},    # every test that follows a key to the peer
    "verify_io": {"test_verify_finds_problems_without_network_io"},
    "transient_as_permanent": {TRANSIENT},
    "no_reason": {"test_a_refusal_is_permanent_with_a_reason"},
    "find": {FOUND},
    "keyless": set(),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Each contract test's outcome per way of breaking the channel: {broken: {test: "PASSED" | "FAILED" | "SKIPPED"}}."""
    folder = tmp_path_factory.mktemp("contract")
    (folder / "conftest.py").write_text('pytest_plugins = ["tidings.testing"]\n')
    (folder / "test_hook.py").write_text(CHANNEL + "".join(CLASS.format(broken=b) for b in BROKEN) + KEYLESS)
    # a process of its own: the plugin's modules are imported afresh, as in a plugin's repository
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-W", "error"],
                            cwd=folder, capture_output=True, text=True, timeout=120)
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for broken, test, outcome in re.findall(r"::Test_(\w+)::(\w+) (PASSED|FAILED|SKIPPED)", result.stdout):
        found[broken][test] = outcome
    assert set(found) == {*BROKEN, "keyless"}, result.stdout + result.stderr
    return found


def test_a_channel_that_keeps_the_contract_passes_it(outcomes: dict[str, dict[str, str]]) -> None:
    # the entry-point test is skipped: the channel is registered by an object, not a distribution
    assert sorted(outcomes["nothing"].values()) == ["PASSED"] * 8 + ["SKIPPED"]


@pytest.mark.parametrize("broken", [*(b for b in BROKEN if b != "nothing"), "keyless"])
def test_a_channel_breaking_a_promise_fails_the_tests_of_that_promise_and_no_other(
        outcomes: dict[str, dict[str, str]], broken: str) -> None:
    failed = {test for test, outcome in outcomes[broken].items() if outcome == "FAILED"}
    assert failed == FAILING[broken]
