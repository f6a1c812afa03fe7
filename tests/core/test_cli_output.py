"""The CLI for people and for programs: `log --format table`, and `--json` for check, plugins and preview."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tidings.config import load_config
from tidings.demo import config_text, prepare
from tidings.simulate import run
from tidings.store.redis import RedisStore

BROKEN = """
[tidings]
timezone = "Europe/Nowhere"

[plugins]
channels = ["sms"]
triggers = ["pre-visit"]

[[rules]]
id = "reminder"
trigger = "pre-visit"
before = "24x"
channel = "sms"
"""


def tidings(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False)


def demo_config(folder: Path, **tidings_keys: str) -> Path:
    """The demo chain's config, with [tidings] keys changed."""
    text = config_text()
    for key, value in tidings_keys.items():
        text = text.replace(f'\n{key} = "memory://"', f'\n{key} = "{value}"') if key in ("store", "broker") else \
            text.replace("[tidings]\n", f'[tidings]\n{key} = "{value}"\n', 1)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- log


@pytest.fixture
def logged(redis_url: str, tmp_path: Path) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """A config whose Redis store (its own namespace) holds the delivery log of the demo month."""
    namespace = f"t-{uuid.uuid4().hex[:16]}"
    config_path = demo_config(tmp_path, store=redis_url, namespace=namespace)
    store = RedisStore.from_url(redis_url, prefix=f"{namespace}:")
    try:
        lines = prepare(tmp_path / "demo").events.read_text(encoding="utf-8").splitlines()
        run(load_config(config_path), lines, store=store)
        yield config_path, store.log()
    finally:
        keys = list(store.client.scan_iter(match=f"{namespace}:*", count=1000))
        for start in range(0, len(keys), 500):
            store.client.delete(*keys[start:start + 500])
        store.close()


def test_log_as_a_table_lines_up_every_column_and_says_what_the_json_says(
        logged: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    config, entries = logged
    client = next(e["client"] for e in entries if e["status"] == "suspended")
    as_json = tidings("log", "--config", str(config), "--client", client, cwd=tmp_path)
    as_table = tidings("log", "--config", str(config), "--client", client, "--format", "table", cwd=tmp_path)
    assert as_json.returncode == 0 and as_table.returncode == 0, as_json.stderr + as_table.stderr
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    lines = as_table.stdout.splitlines()
    header = lines[0]
    assert header.split() == ["AT", "SUBJECT", "STATUS", "RULE", "CHANNEL", "TO", "REASON", "DUE"]
    assert len(lines) == len(rows) + 1 and len(rows) >= 5
    # every column starts where its heading starts, on every line
    starts = [header.index(name) for name in header.split()]
    for line, row in zip(lines[1:], rows, strict=True):
        for name, start, end in zip(header.split(), starts, [*starts[1:], None], strict=True):
            cell = line[start:end].strip()
            value = row.get(name.lower())
            assert cell == ("" if value is None else str(value)), (name, line)
            assert start == 0 or start >= len(line) or line[start - 1] == " "


def test_log_as_a_table_of_nothing_says_so(logged: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    config, _ = logged
    result = tidings("log", "--config", str(config), "a-none", "--format", "table", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == ""
    assert "nothing in the delivery log of a-none" in result.stderr


# ---------------------------------------------------------------- forget


def test_forget_erases_a_client_and_says_what_it_removed(logged: tuple[Path, list[dict[str, Any]]], tmp_path: Path) -> None:
    # Given the demo month in a Redis store, and a client with entries in its log
    config, entries = logged
    client = next(e["client"] for e in entries if e["status"] == "suspended")
    mine = [e for e in entries if e.get("client") == client]
    subjects = {e["subject"] for e in mine}
    # When the client is forgotten
    result = tidings("forget", "--config", str(config), "--client", client, cwd=tmp_path)
    # Then it says how much went, and nothing of the client is left in the log; the others keep theirs
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"forgot client {client}: {len(subjects)} subject snapshot")
    assert f", {len(mine)} log entries" in result.stdout
    after = tidings("log", "--config", str(config), "--client", client, cwd=tmp_path)
    assert after.returncode == 0 and after.stdout == ""
    others = [e for e in entries if e.get("client") != client and e["subject"] not in subjects]
    left = tidings("log", "--config", str(config), "--client", others[0]["client"], cwd=tmp_path)
    assert len(left.stdout.splitlines()) == sum(1 for e in entries if e.get("client") == others[0]["client"])
    again = tidings("forget", "--config", str(config), "--client", client, cwd=tmp_path)
    assert again.stdout == f"forgot client {client}: 0 subject snapshots, 0 pending messages, 0 log entries\n"


# ---------------------------------------------------------------- check --json


def test_check_json_lists_every_problem_with_its_path_and_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = tidings("check", "--json", str(path), cwd=tmp_path)
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert found["ok"] is False and found["config"] == str(path)
    problems = {p["path"]: p for p in found["problems"]}
    assert "not a time zone" in problems["tidings.timezone"]["message"]
    assert "'24x' is not a duration" in problems["rules[0] (reminder).before"]["message"]
    assert all(p["warning"] is False for p in found["problems"])
    # the same problems the text form prints, one per line
    text = tidings("check", str(path), cwd=tmp_path)
    assert sorted(f"  {p['path']}: {p['message']}" for p in found["problems"]) == sorted(text.stderr.splitlines()[1:])


def test_check_json_of_a_good_config_is_ok_and_tells_its_warnings(tmp_path: Path) -> None:
    # a rule naming an undefined template works (the trigger's built-in text) but check warns
    path = demo_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('id = "reminder-2h"\n', 'id = "reminder-2h"\ntemplate = "nowhere"\n'),
                    encoding="utf-8")
    result = tidings("check", "--json", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(result.stdout)
    assert found["ok"] is True
    assert found["rules"] == [r.id for r in load_config(path).rules] and found["locations"] == ["warsaw", "kyiv"]
    warnings = [p for p in found["problems"] if "nowhere" in p["message"]]
    assert warnings and all(p["warning"] is True for p in warnings)
    assert warnings[0]["path"].startswith("rules[2] (reminder-2h)")


def test_check_json_of_a_missing_file_is_one_problem_not_a_traceback(tmp_path: Path) -> None:
    result = tidings("check", "--json", "missing.toml", cwd=tmp_path)
    assert result.returncode == 1
    found = json.loads(result.stdout)
    assert found["ok"] is False and len(found["problems"]) == 1 and "cannot be read" in found["problems"][0]["message"]
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- plugins --json


def test_plugins_json_gives_one_object_per_plugin_with_its_state(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[plugins]\nchannels = ["sms", "viber"]\ntriggers = ["pre-visit"]\n', encoding="utf-8")
    result = tidings("plugins", "--json", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(result.stdout)}
    assert rows[("channel", "sms")] == {"kind": "channel", "name": "sms", "distribution": "tidings-sms",
                                        "version": rows[("channel", "sms")]["version"], "state": "enabled"}
    assert rows[("channel", "email")]["state"] == "inert"
    assert rows[("channel", "viber")]["state"] == "missing" and rows[("channel", "viber")]["distribution"] == "-"
    assert rows[("trigger", "pre-visit")]["state"] == "enabled"
    # the table lists the same plugins
    table = tidings("plugins", "--config", str(path), cwd=tmp_path).stdout.splitlines()
    assert len(table) == len(rows) + 1
    assert {tuple(line.split()[:2]) for line in table[1:]} == set(rows)


# ---------------------------------------------------------------- preview --json


def test_preview_json_gives_the_parts_of_each_channel_as_the_text_form_shows_them(tmp_path: Path) -> None:
    path = demo_config(tmp_path)
    result = tidings("preview", "--config", str(path), "--rule", "reminder-24h", "--locale", "uk", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["rule"] == "reminder-24h" and found["locale"] == "uk"
    channels = {c["channel"]: c for c in found["channels"]}
    assert list(channels) == ["push", "sms", "email"]          # the rule's order
    assert set(channels["push"]["parts"]) == {"title", "body"}
    assert set(channels["sms"]["parts"]) == {"text"} and channels["sms"]["info"]["encoding"] == "UCS-2"
    assert {"subject", "text"} <= set(channels["email"]["parts"])
    text = tidings("preview", "--config", str(path), "--rule", "reminder-24h", "--locale", "uk", cwd=tmp_path).stdout
    for channel in channels.values():
        for part in channel["parts"].values():
            assert part in text
