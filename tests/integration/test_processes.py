"""The processes (PRODUCT §8): `tidings worker`, `tidings scheduler`, `tidings publish` and `tidings log`
as real processes on real Redis, delivering to a real local SMS provider, and stopping cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tidings.testing import LocalJsonProvider
from tidings.testing.deployments import booking_sms_config



@pytest.fixture
def setup(private_redis: str, local_json_provider: LocalJsonProvider, tmp_path: Path) -> tuple[Path, LocalJsonProvider]:
    config = tmp_path / "tidings.toml"
    config.write_text(booking_sms_config(store=private_redis, url=local_json_provider.url), encoding="utf-8")
    return config, local_json_provider


def tidings(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, timeout=60, **kwargs)


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tidings.cli", "--log-level", "error", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def event(n: int) -> str:
    return json.dumps({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                       "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2030-03-10T14:00:00+01:00",
                                   "client": {"id": f"c-{n}", "phone": f"60010020{n}", "consents": {"sms": True}}}})


def test_worker_and_scheduler_deliver_what_publish_sends_and_stop_cleanly_on_sigterm(setup: tuple[Path, LocalJsonProvider],
                                                                                      tmp_path: Path) -> None:
    config, provider = setup
    processes = [start("worker", "--config", str(config), "--threads", "2"),
                 start("scheduler", "--config", str(config), "--interval", "0.1")]
    try:
        events = tmp_path / "events.jsonl"
        broken = '{"id": "evt-9", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00", "subject": {"id": "a-9"}}'
        events.write_text("\n".join([event(1), event(2), broken, event(3)]) + "\n", encoding="utf-8")
        published = tidings("publish", "--config", str(config), str(events))
        # the malformed line is named with its field, and the others still go out
        assert published.returncode == 1
        assert "line 3" in published.stderr and "occurred_at" in published.stderr
        assert "published 3 events, rejected 1" in published.stdout

        deadline = time.monotonic() + 30
        while len(provider.texts()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert provider.texts() == ["Booked: a-1", "Booked: a-2", "Booked: a-3"]
        assert [m["to"] for m in provider.delivered if m["text"] == "Booked: a-1"] == ["+48600100201"]

        feed = tidings("log", "--config", str(config), "a-2")
        assert feed.returncode == 0, feed.stderr
        entries = [json.loads(line) for line in feed.stdout.splitlines()]
        assert [(e["status"], e.get("channel")) for e in entries if e["status"] == "sent"] == [("sent", "sms")]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=30) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    assert len(provider.texts()) == 3   # nothing was sent twice on the way out


NO_TOKEN = """
[tidings]
timezone = "Europe/Warsaw"
broker = "{redis}"
store = "{redis}"

[plugins]
channels = ["sms"]
triggers = ["status-change"]

[channels.sms]
provider = "twilio"
account_sid = "AC00000000000000000000000000000000"
sender = "+48600000000"
# no auth_token, and no $TIDINGS_SMS_AUTH_TOKEN in these processes' environment

[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
channel = "sms"
template = "booked"

[templates.booked]
sms = "Booked: {{{{ subject.id }}}}"
"""


def queued(url: str, queue: str) -> list[str]:
    """The actor names of the messages waiting on a Dramatiq queue in Redis."""
    import redis
    client = redis.Redis.from_url(url)
    try:
        return sorted(json.loads(m)["actor_name"] for m in client.hvals(f"dramatiq:{queue}.msgs"))
    finally:
        client.close()


def test_publish_and_scheduler_need_no_provider_secret_and_only_the_worker_refuses_to_start(
        private_redis: str, tmp_path: Path) -> None:
    from tidings.config import load_config
    from tidings.pipeline import build_pipeline
    from tidings.store import open_store

    config = tmp_path / "tidings.toml"
    config.write_text(NO_TOKEN.format(redis=private_redis), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "TIDINGS_SMS_AUTH_TOKEN"}
    events = tmp_path / "events.jsonl"
    events.write_text(event(1) + "\n", encoding="utf-8")

    # When publish sends an event, it is queued for a worker's ingest
    published = tidings("publish", "--config", str(config), str(events), env=env)
    assert published.returncode == 0, published.stderr
    assert "published 1 event" in published.stdout
    assert queued(private_redis, "tidings") == ["tidings_ingest"]

    # Given a message that is due (the event planned here, as a worker would have)
    cfg = load_config(config)
    store = open_store(cfg.tidings.store, namespace=cfg.tidings.namespace)
    build_pipeline(None, cfg, store, transports={}).ingest(json.loads(event(2)))
    assert store.count_pending() == 1
    # When the scheduler runs, it hands the due message to the queue for a worker's dispatch
    scheduler = subprocess.Popen([sys.executable, "-m", "tidings.cli", "--log-level", "error", "scheduler", "--config",
                                  str(config), "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env={**env, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while queued(private_redis, "tidings") != ["tidings_dispatch", "tidings_ingest"] and scheduler.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queued(private_redis, "tidings") == ["tidings_dispatch", "tidings_ingest"]
    finally:
        scheduler.send_signal(signal.SIGTERM)
        _, errors = scheduler.communicate(timeout=30)
        store.close()
    assert scheduler.returncode == 0 and "Traceback" not in errors, errors

    # Then only the worker, which would deliver, needs the secret, and says so without a traceback
    worker = tidings("worker", "--config", str(config), env=env)
    assert worker.returncode == 1 and "Traceback" not in worker.stderr
    assert ("channels.sms.auth_token: is required by the twilio provider and is not set here: put $TIDINGS_SMS_AUTH_TOKEN "
            "in the worker's environment (or auth_token in this table)") in worker.stderr


def test_publish_on_the_embedded_default_needs_no_provider_secret(tmp_path: Path) -> None:
    config = tmp_path / "tidings.toml"
    config.write_text(NO_TOKEN.format(redis="memory://"), encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text(event(1) + "\n", encoding="utf-8")
    published = tidings("publish", "--config", str(config), str(events),
                        env={k: v for k, v in os.environ.items() if k != "TIDINGS_SMS_AUTH_TOKEN"})
    assert published.returncode == 0, published.stderr
    assert "published 1 event" in published.stdout
