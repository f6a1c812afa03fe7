"""Privacy in logs, proven (issue 13): worker and scheduler run as real processes with debug logging through
failures (a provider answering errors that echo what it was sent, a permanent refusal, an answer that is not
HTTP at all so the transport raises, a bad address, an outage of Redis), and no phone number, e-mail address
or secret appears anywhere in what they printed: stdout, stderr or the log file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import LocalJsonProvider, PrivateRedis, Reply, Request
from tidings.testing.deployments import booking_sms_config

Process = Any   # conftest's: a tidings command run as a real process

SECRET = "sk_live_4f9Qx7TzR2mKp8VwL3nB"      # the SMS provider's token, from the environment
LINK_SECRET = "lnk_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
PHONES = {n: f"6001002{n:02d}" for n in range(1, 6)}
EMAILS = {n: f"klientka.{n}@example.org" for n in range(1, 6)}



class LeakyProvider(LocalJsonProvider):
    """A provider whose failures repeat what it was sent, the token included, as careless providers do."""

    def respond(self, request: Request) -> Reply:
        if request.method != "POST":
            return super().respond(request)
        to = str(request.json.get("to", ""))
        echo = {"error": f"cannot deliver to {to}", "request": request.json,
                "authorization": request.headers.get("authorization", "")}
        tries = sum(1 for r in self.requests if r.method == "POST" and r.json.get("to") == to)
        if to.endswith(PHONES[1]) and tries == 1:
            return Reply(503, echo)                      # transient, then accepted
        if to.endswith(PHONES[2]):
            return Reply(400, echo)                      # refused for good
        if to.endswith(PHONES[3]) and tries == 1:
            return Reply(502, f"upstream said: {json.dumps(echo)}")   # not JSON, then accepted
        if to.endswith(PHONES[4]) and tries == 1:
            # a body cut short of its length: the HTTP client raises inside the transport, then it is accepted
            return Reply(200, json.dumps(echo), headers={"Content-Length": "100000"})
        return super().respond(request)


def booking(n: int, phone: str) -> str:
    return json.dumps({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                       "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-03-10T14:00:00+01:00",
                                   "client": {"id": f"c-{n}", "name": "Ola", "phone": phone, "email": EMAILS.get(n, ""),
                                              "consents": {"sms": True, "email": True}},
                                   "data": {"note": f"call {phone} or write to {EMAILS.get(n, 'x@example.org')}"}}})


@pytest.fixture
def leaky_provider() -> Iterator[LeakyProvider]:
    provider = LeakyProvider()
    try:
        yield provider
    finally:
        provider.stop()


def leaks(text: str) -> list[str]:
    """Every phone number, e-mail address or secret of this test found in `text`, in any spelling."""
    found = []
    for phone in PHONES.values():
        spaced = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
        found += [variant for variant in (phone, f"+48{phone}", spaced, spaced.replace(" ", "-")) if variant in text]
    found += [email for email in EMAILS.values() if email in text]
    found += [m for m in re.findall(r"[\w.+-]+@[\w-]+\.[\w.-]+", text) if "***@" not in m]
    found += [secret for secret in (SECRET, LINK_SECRET, SECRET[8:], LINK_SECRET[8:]) if secret in text]
    return found


def test_debug_logs_of_worker_and_scheduler_through_failures_hold_no_address_or_secret(
        restartable_redis: PrivateRedis, leaky_provider: LeakyProvider, processes: Callable[..., Process],
        until: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(booking_sms_config(
        store=restartable_redis.url, url=leaky_provider.url, tidings='namespace = "privacy"',
        sms='timeout = 2\nheaders = { Authorization = "Bearer {auth_token}" }',
        text="Booked, {{ client.name }} ({{ client.phone }}, {{ client.email }}): {{ subject.id }}",
        more=f'[links]\nsecret = "{LINK_SECRET}"\nbase_url = "https://salon.example/l"'),
                      encoding="utf-8")
    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", SECRET)
    log_file = tmp_path / "worker-file.log"
    worker = processes("worker", "--log-level", "debug", "worker", "--config", str(config), "--threads", "2")
    filed = processes("filed-worker", "--log-level", "debug", "worker", "--config", str(config), "--threads", "1",
                      "--log-file", str(log_file))
    scheduler = processes("scheduler", "--log-level", "debug", "scheduler", "--config", str(config), "--interval", "0.1")

    events = tmp_path / "events.jsonl"
    lines = [booking(n, phone) for n, phone in PHONES.items()] + [booking(9, "12")]   # the last: not a phone number
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    published = subprocess.run([sys.executable, "-m", "tidings.cli", "--log-level", "debug", "publish", "--config",
                                str(config), str(events)], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "TIDINGS_SMS_AUTH_TOKEN": SECRET})
    assert published.returncode == 0, published.stderr

    # Then every message ends: four sent (two after a failure), one refused, the bad address skipped
    until(lambda: len(leaky_provider.delivered) == 4, within=180, what="four messages delivered")
    until(lambda: any("provider_rejected" in json.dumps(line) for p in (worker, filed) for line in p.lines())
          or "provider_rejected" in log_file.read_text(errors="replace"), what="the refusal logged")
    # an outage of Redis, while debug logging is on, is logged too
    restartable_redis.stop()
    until(lambda: "store_unreachable" in scheduler.events(), what="the outage logged")
    restartable_redis.start()
    until(lambda: "store_reconnected" in scheduler.events(), what="the recovery logged")
    assert worker.stop() == 0 and filed.stop() == 0 and scheduler.stop() == 0

    # none of what any process printed holds an address or a secret
    outputs = {"publish stdout": published.stdout, "publish stderr": published.stderr, "worker file": log_file.read_text(errors="replace")}
    for process in (worker, filed, scheduler):
        outputs[f"{process.log_path.name}"] = process.log_path.read_text(errors="replace")
        outputs[f"{process.out_path.name}"] = process.out_path.read_text(errors="replace")
    assert sum(len(text.splitlines()) for text in outputs.values()) > 50   # debug logging did say a lot
    assert "sms_rejected" in "".join(outputs.values()) and "Traceback" not in "".join(outputs.values())
    found = {name: leaks(text) for name, text in outputs.items() if leaks(text)}
    assert not found, found
