"""No tracebacks for user mistakes: every command turns a missing file, bad TOML, a bad option value,
an unreachable Redis or a bad line of events into one clear line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tidings.cli import main

CONFIG = """
[plugins]
channels = ["sms"]
triggers = ["status-change"]

[channels.sms]
provider = "json"
url = "http://127.0.0.1:9/messages"
default_region = "PL"

[locations.main]
timezone = "Europe/Warsaw"

[[rules]]
id = "booked"
trigger = "status-change"
on = "created"
channel = "sms"
"""

UNREACHABLE = CONFIG.replace("[plugins]", '[tidings]\nbroker = "redis://127.0.0.1:9/0"\nstore = "redis://127.0.0.1:9/0"\n\n[plugins]')


def good(n: int, **subject: object) -> str:
    return json.dumps({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                       "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                                   "location": "main", "client": {"id": f"c-{n}", "phone": f"60010020{n}",
                                                                   "consents": {"sms": True}}, **subject}})


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "good.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "unreachable.toml").write_text(UNREACHABLE, encoding="utf-8")
    (tmp_path / "bad.toml").write_text("[tidings\ntimezone = ", encoding="utf-8")
    (tmp_path / "events.jsonl").write_text(good(1) + "\n", encoding="utf-8")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    return tmp_path


MISTAKES = [
    ("check missing.toml", "missing.toml"),
    ("check bad.toml", "not valid TOML"),
    ("plugins --config missing.toml", "missing.toml"),
    ("plugins --config bad.toml", "bad.toml"),
    ("simulate --config missing.toml --events events.jsonl", "missing.toml"),
    ("simulate --config bad.toml --events events.jsonl", "not valid TOML"),
    ("simulate --config good.toml --events missing.jsonl", "missing.jsonl"),
    ("simulate --config good.toml --events events.jsonl --until yesterday", "'yesterday' is not an RFC 3339 time"),
    ("simulate --config good.toml --events events.jsonl --until 2026-03-10T14:00", "has no UTC offset"),
    ("init no/such/folder/tidings.toml", "No such file or directory"),
    ("preview --config missing.toml --rule booked", "missing.toml"),
    ("preview --config good.toml --rule nope", "no rule 'nope'"),
    ("preview --config good.toml --rule booked --event missing.json", "missing.json"),
    ("preview --config good.toml --rule booked --event bad.json", "not JSON"),
    ("publish --config missing.toml events.jsonl", "missing.toml"),
    ("publish --config good.toml missing.jsonl", "missing.jsonl"),
    ("publish --config unreachable.toml --retry-for 0 events.jsonl", "cannot reach the broker: the events on line 1 were not"),
    ("log --config missing.toml a-1", "missing.toml"),
    ("log --config unreachable.toml a-1", "cannot reach the broker or the store"),
    ("worker --config bad.toml", "not valid TOML"),
    ("scheduler --config missing.toml", "missing.toml"),
    ("demo --month 2026-13", "is not a month"),
]


@pytest.mark.parametrize(("command", "said"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_users_mistake_is_one_clear_line_and_a_non_zero_exit(files: Path, command: str, said: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    result = CliRunner().invoke(main, command.split())
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception   # not an exception escaping the command
    assert "Traceback" not in result.output
    assert said in result.output


def test_a_real_process_prints_no_traceback_for_a_missing_file(files: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "tidings.cli", "simulate", "--config", str(files / "good.toml"),
                          "--events", str(files / "missing.jsonl")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("Error: ") and "missing.jsonl" in run.stderr


BAD_LINES = [
    b"\xff\xfe not UTF-8 at all",
    b'{"id": "x", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ("[" * 40 + "]" * 40).encode(),
    good(7, data={"price": float("nan")}).encode(),
    good(8).replace("2026-03-02T09:00:00+01:00", "0001-01-01T00:00:00+00:00").encode(),
    good(9).replace("2026-03-10T14:00:00+01:00", "9999-12-31T23:00:00+00:00").encode(),
    good(10, data={"note": "\ud800"}).encode(),
    b'{"id": "big", "data": "' + b"x" * 300_000 + b'"}',
]


def test_simulate_reports_each_bad_line_by_number_and_runs_every_good_one(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(CONFIG, encoding="utf-8")
    lines = [good(1).encode(), *BAD_LINES, good(2).encode()]
    (tmp_path / "e.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    run = subprocess.run([sys.executable, "-m", "tidings.cli", "simulate", "--config", str(tmp_path / "c.toml"),
                          "--events", str(tmp_path / "e.jsonl"), "--output", str(tmp_path / "out.jsonl"), "--no-summary"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    for number in range(2, 2 + len(BAD_LINES)):
        assert f"line {number}:" in run.stderr, run.stderr
    assert f"{len(BAD_LINES)} events were rejected" in run.stderr
    sent = [json.loads(line)["subject"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sent == ["a-1", "a-2"]


@pytest.mark.parametrize(("line", "field"), [
    (BAD_LINES[3], "subject.data.price"),
    (BAD_LINES[4], "occurred_at"),
    (BAD_LINES[5], "subject.start"),
    (BAD_LINES[6], "subject.data.note"),
])
def test_a_value_that_would_crash_ingest_later_is_refused_at_validation_naming_its_field(line: bytes, field: str) -> None:
    from tidings.errors import EventError
    from tidings.models import Event
    with pytest.raises(EventError) as caught:
        Event.from_json(line)
    assert field in str(caught.value)


def test_a_value_that_would_crash_ingest_is_refused_from_the_python_api_too() -> None:
    from tidings.errors import EventError
    from tidings.models import Event
    event = json.loads(good(1))
    event["subject"]["data"] = {"price": float("inf")}
    with pytest.raises(EventError, match="subject.data.price"):
        Event.from_dict(event)
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    event["subject"]["data"] = {"nested": {"deeper": deep}}
    with pytest.raises(EventError, match="nested more than"):
        Event.from_dict(event)
