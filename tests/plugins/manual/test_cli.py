"""``tidings manual`` through the real command line, against a deployment on Redis that a host filled."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tidings
from tidings.store.redis import RedisStore
from tidings.testing import NOW

CONFIG = """
[tidings]
timezone = "Europe/Warsaw"
store = "{store}"
namespace = "{namespace}"

[plugins]
channels = ["manual"]
triggers = ["status-change"]

[channels.manual]
links = ["whatsapp", "email"]

[locations.old-town]
name = "Old Town"

[locations.riverside]
name = "Riverside"

[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
channel = "manual"
"""


def tidings_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


def booking(subject: str, location: str) -> dict[str, Any]:
    return {"id": f"evt-{subject}", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": subject, "status": "confirmed", "start": "2030-03-10T14:00:00+01:00", "location": location,
                        "client": {"id": f"c-{subject}", "name": "Ola Nowak", "phone": "+48600100200",
                                   "email": "ola@example.com", "consents": {"manual": True}}}}


@pytest.fixture
def config(tmp_path: Path, redis_url: str) -> Iterator[Path]:
    namespace = f"manual-test-{uuid.uuid4().hex[:20]}"
    path = tmp_path / "tidings.toml"
    path.write_text(CONFIG.format(store=redis_url, namespace=namespace), encoding="utf-8")
    # the host's own process, on the embedded broker, queues two messages in the Redis store
    with tidings.connect(path) as client:
        client.publish(booking("a-1", "old-town"))
        client.publish(booking("a-2", "riverside"))
        client.run_due()
    yield path
    store = RedisStore.from_url(redis_url, prefix=f"{namespace}:")
    keys = list(store.client.scan_iter(match=f"{namespace}:*"))
    if keys:
        store.client.delete(*keys)
    store.close()


def test_list_shows_a_locations_queue_with_links_and_done_records_sent(config: Path) -> None:
    listed = tidings_cli("manual", "list", "--config", str(config), "--location", "old-town", "--json", cwd=config.parent)
    assert listed.returncode == 0, listed.stderr
    [message] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (message["subject"], message["location"], message["to"]) == ("a-1", "old-town", "+48600100200")
    assert list(message["links"]) == ["whatsapp", "email"]
    people = tidings_cli("manual", "--config", str(config), "list", cwd=config.parent)
    assert people.returncode == 0 and "2 queued" in people.stdout and "whatsapp: https://wa.me/48600100200?text=" in people.stdout
    done = tidings_cli("manual", "done", message["id"], "--by", "Anna", f"--config={config}", cwd=config.parent)
    assert done.returncode == 0 and f"{message['id']}: sent" in done.stdout
    log = tidings_cli("log", "--config", str(config), "a-1", cwd=config.parent)
    assert [json.loads(line)["status"] for line in log.stdout.splitlines()] == ["scheduled", "queued", "sent"]
    again = tidings_cli("manual", "done", message["id"], "--config", str(config), cwd=config.parent)
    assert again.returncode == 1 and "marked done already" in again.stderr and "Traceback" not in again.stderr
    rest = tidings_cli("manual", "list", "--config", str(config), "--json", cwd=config.parent)
    assert [json.loads(line)["subject"] for line in rest.stdout.splitlines()] == ["a-2"]


def test_a_plugin_command_without_config_or_of_a_plugin_not_enabled_is_a_usage_error(config: Path) -> None:
    bare = tidings_cli("manual", "list", cwd=config.parent)
    assert bare.returncode == 2 and "runs with --config CONFIG" in bare.stderr
    without = config.with_name("sms-only.toml")
    without.write_text(config.read_text(encoding="utf-8").replace('"manual"', '"sms"', 1)
                       .replace("[channels.manual]\nlinks = [\"whatsapp\", \"email\"]\n", "")
                       .replace('channel = "manual"', 'channel = "sms"'), encoding="utf-8")
    other = tidings_cli("manual", "list", "--config", str(without), cwd=config.parent)
    assert other.returncode == 2 and "no such command 'manual'" in other.stderr, other.stderr
    unknown = tidings_cli("manual", "list", "--config", str(config), "--location", "nowhere", cwd=config.parent)
    assert unknown.returncode == 2 and "'nowhere' is not a location" in unknown.stderr
