"""`tidings demo`: a realistic month, generated the same way every time, run to a summary that tells the truth."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tidings.config import load_config
from tidings.demo import config_text, prepare
from tidings.demo.generator import generate_events
from tidings.models import Event


def tidings(*args: str, cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The real command, in a process of its own, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, check=False, **kwargs)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`tidings demo` run once, with its defaults, in an empty folder."""
    cwd = tmp_path_factory.mktemp("demo")
    result = tidings("demo", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd, result


# ---------------------------------------------------------------- the generated month


def test_the_same_month_and_seed_give_the_same_events_and_another_seed_other_ones() -> None:
    assert generate_events(date(2026, 3, 1), seed=7) == generate_events(date(2026, 3, 1), seed=7)
    assert generate_events(date(2026, 3, 1), seed=7) != generate_events(date(2026, 3, 1), seed=8)


def test_the_month_has_fifty_clients_in_five_locales_two_zones_and_every_kind_of_change() -> None:
    events = [Event.from_dict(e) for e in generate_events()]
    clients = {e.subject.client.id: e.subject.client for e in events if e.subject.client}
    assert 45 <= len(clients) <= 55
    assert {c.locale for c in clients.values()} == {"pl", "uk", "ru", "en", "it"}
    assert {e.subject.location for e in events} == {"warsaw", "kyiv"}
    assert {e.type for e in events} == {"appointment.created", "appointment.status_changed", "appointment.rescheduled"}
    assert {e.subject.status for e in events} == {"pending", "confirmed", "cancelled", "completed", "no_show", "rejected"}
    # a mix of channels and consents: push subscribers, e-mail-only clients, clients who consented to nothing
    assert any(c.push for c in clients.values())
    assert any(c.consents.get("sms") is False and c.consents.get("email") for c in clients.values())
    assert any(not any(c.consents.values()) for c in clients.values())
    assert any(c.phone and not c.phone.startswith("+") for c in clients.values())   # a national number
    # a visit moved away and back to its first time
    starts: dict[str, list[datetime]] = {}
    for e in events:
        if e.verb in ("created", "rescheduled") and e.subject.start:
            starts.setdefault(e.subject.id, []).append(e.subject.start)
    assert any(len(s) > len(set(s)) for s in starts.values())
    # the file order is the order things happen, and every event is valid
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert len({e.id for e in events}) == len(events)


def test_every_visit_is_booked_in_its_locations_opening_hours(tmp_path: Path) -> None:
    config = load_config(_config_file(tmp_path))
    for event in (Event.from_dict(e) for e in generate_events()):
        subject = event.subject
        location = config.location(subject.location)
        zone = config.zone(subject.location)
        assert location.hours is not None and subject.start is not None and subject.end is not None
        assert location.hours.next_open(subject.start, zone) == subject.start, (event.id, subject.start)
        last_minute = subject.end - timedelta(minutes=1)
        assert location.hours.next_open(last_minute, zone) == last_minute, (event.id, subject.end)


@pytest.mark.parametrize("month", [date(2026, 3, 1), date(2026, 10, 1), date(2027, 2, 1)])
def test_the_visits_are_dated_in_the_chosen_month(month: date) -> None:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    booked = [Event.from_dict(e) for e in generate_events(month) if e["type"] == "appointment.created"]
    starts = [e.subject.start.date() for e in booked if e.subject.start]
    # a visit booked for the month's last days may land on the first open day after it
    assert all(month <= day < following + timedelta(days=7) for day in starts)
    assert sum(day < following for day in starts) >= 0.9 * len(starts)
    assert min(e.occurred_at.date() for e in booked) >= month - timedelta(days=14)


def _config_file(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(config_text(), encoding="utf-8")
    return path


def test_the_demo_config_passes_check(tmp_path: Path) -> None:
    result = tidings("check", str(_config_file(tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": ok (10 rules, 2 locations" in result.stdout
    # check says which address each rule's channels need of whom
    assert "reach visit-cancelled (client): telegram needs addresses.telegram" in result.stdout
    assert "reach no-show-follow-up (client): manual needs phone or email" in result.stdout


def test_tidings_plugins_lists_the_demos_channels_enabled(tmp_path: Path) -> None:
    result = tidings("plugins", "--config", str(_config_file(tmp_path)), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    enabled = {(row["kind"], row["name"], row["distribution"]) for row in json.loads(result.stdout)
               if row["state"] == "enabled"}
    assert {("channel", name, f"tidings-{name}") for name in ("sms", "email", "push", "webhook", "whatsapp", "telegram", "manual")} \
        <= enabled


# ---------------------------------------------------------------- the run and its summary


def _summary_counts(stdout: str) -> tuple[dict[tuple[str, str], int], dict[str, int], tuple[int, int, int]]:
    head = re.search(r"^(\d+) messages? sent, (\d+) not sent.*?, from (\d+) events?", stdout, re.MULTILINE)
    assert head, stdout
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["sent"])
    channels = lines[start].split()[1:-1]
    sent: dict[tuple[str, str], int] = {}
    for line in lines[start + 1:]:
        cells = line.split()
        if not cells or cells[0] == "total":
            break
        for channel, cell in zip(channels, cells[1:-1], strict=True):
            if cell != "-":
                sent[(cells[0], channel)] = int(cell)
    skipped: dict[str, int] = {}
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["not", "sent"])
    for line in lines[start + 1:]:
        cells = line.split()
        if not cells:
            break
        skipped[cells[0]] = int(cells[1])
    return sent, skipped, (int(head[1]), int(head[2]), int(head[3]))


def test_the_demo_runs_to_completion_and_its_summary_agrees_with_its_messages(demo_run: tuple[Path, Any]) -> None:
    cwd, result = demo_run
    folder = cwd / "tidings-demo"
    records = lines_of(folder / "messages.jsonl")
    sent, skipped, (total_sent, total_skipped, events) = _summary_counts(result.stdout)
    # a message queued for staff (manual) counts in its channel's column, as the summary says
    assert sent == Counter((r["rule"], r["channel"]) for r in records if r.get("status", "queued") == "queued")
    assert skipped == Counter(r["reason"] for r in records if r.get("status") == "skipped")
    assert total_sent == sum(sent.values()) and total_skipped == sum(skipped.values())
    assert events == len((folder / "events.jsonl").read_text(encoding="utf-8").splitlines())
    # every rule of the chain sent something, through every channel
    assert {rule for rule, _ in sent} == {r.id for r in load_config(folder / "config.toml").rules}
    assert {channel for _, channel in sent} == {"sms", "email", "push", "webhook", "whatsapp", "telegram", "manual"}
    assert {"no_consent", "too_late", "muted"} <= set(skipped)
    # nothing goes to a terminal that is not one: no progress bar in a pipe
    assert "simulating" not in result.stderr and "\r" not in result.stderr


def test_the_new_channels_rules_reach_exactly_the_clients_their_contacts_allow(demo_run: tuple[Path, Any]) -> None:
    # worked out from the events alone, by the contract: a moved visit goes by WhatsApp to a client who consented
    # (the phone is the address); a cancellation by Telegram to one with a chat id (addresses.telegram) and
    # consent, else invalid_address; a no-show is queued for staff for a client who consented to manual sending
    cwd, _ = demo_run
    folder = cwd / "tidings-demo"
    records = lines_of(folder / "messages.jsonl")
    expected: Counter[tuple[str, str, str | None]] = Counter()
    for event in (Event.from_dict(e) for e in lines_of(folder / "events.jsonl")):
        client = event.subject.client
        assert client is not None
        if event.verb == "rescheduled":
            expected[("visit-moved", "sent" if client.consents.get("whatsapp") else "skipped",
                      None if client.consents.get("whatsapp") else "no_consent")] += 1
        elif event.subject.status == "cancelled":
            chat, consent = client.addresses.get("telegram"), client.consents.get("telegram")
            expected[("visit-cancelled", "sent" if chat and consent else "skipped",
                      None if chat and consent else "invalid_address" if not chat else "no_consent")] += 1
        elif event.subject.status == "no_show":
            expected[("no-show-follow-up", "queued" if client.consents.get("manual") else "skipped",
                      None if client.consents.get("manual") else "no_consent")] += 1
    found = Counter((r["rule"], r.get("status", "sent"), r.get("reason")) for r in records
                    if r["rule"] in ("visit-moved", "visit-cancelled", "no-show-follow-up") and r.get("status") != "scheduled")
    assert found == expected
    assert {rule for rule, status, _ in expected if status in ("sent", "queued")} == {
        "visit-moved", "visit-cancelled", "no-show-follow-up"}, "each new channel sends something in the month"
    # WhatsApp's address is the phone in E.164 without "+", Telegram's the chat id, manual's the phone first
    assert all(not r["to"].startswith("+") for r in records if r.get("channel") == "whatsapp" and "status" not in r)
    assert all(r["to"].startswith("51000000") for r in records if r.get("channel") == "telegram" and "status" not in r)
    assert all(r["to"].startswith("+") for r in records if r.get("status") == "queued")


def test_the_demo_tells_three_clients_months_each_of_its_kind(demo_run: tuple[Path, Any]) -> None:
    cwd, result = demo_run
    folder = cwd / "tidings-demo"
    records = lines_of(folder / "messages.jsonl")
    events = [Event.from_dict(e) for e in lines_of(folder / "events.jsonl")]
    headers = re.findall(r"^(c-\d+) · .*: (moved back and forth|repeat visit held, then restored|cancelled)$",
                         result.stdout, re.MULTILINE)
    assert [why for _, why in headers] == ["moved back and forth", "repeat visit held, then restored", "cancelled"]
    picked = {why: client for client, why in headers}
    mine = {why: [r for r in records if r.get("client") == client] for why, client in picked.items()}
    assert {"suspended", "restored"} <= {r.get("status") for r in mine["repeat visit held, then restored"]}
    cancelled = [e for e in events if e.subject.client and e.subject.client.id == picked["cancelled"]
                 and e.subject.status == "cancelled"]
    assert cancelled and any(r.get("status") == "dropped" for r in mine["cancelled"])
    starts = [e.subject.start for e in events if e.subject.client and e.subject.client.id == picked["moved back and forth"]
              and e.verb in ("created", "rescheduled")]
    assert len(starts) > len(set(starts))
    # each timeline line of a sent message is in the messages file: the story is the run's, not a made-up one
    block = result.stdout.split(f"{picked['repeat visit held, then restored']} · ", 1)[1].split("\n\n", 1)[0]
    told = re.findall(r"(a-\d+)\s+(\S+) sent by (\w+) to (\S+)", block)
    assert told and sorted(told) == sorted((r["subject"], r["rule"], r["channel"], r["to"])
                                           for r in mine["repeat visit held, then restored"] if "status" not in r)


def test_the_demo_says_how_to_rerun_it_with_simulate_and_that_gives_the_same_messages(
        demo_run: tuple[Path, Any], tmp_path: Path) -> None:
    cwd, result = demo_run
    line = next(line.strip() for line in result.stdout.splitlines() if line.strip().startswith("tidings simulate "))
    args = shlex.split(line)[1:]
    output = args.index("--output")
    args[output + 1] = str(tmp_path / "again.jsonl")
    report = args.index("--report")
    args[report + 1] = str(tmp_path / "again.html")
    again = tidings(*args, cwd=cwd)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.jsonl").read_text(encoding="utf-8") == (cwd / "tidings-demo" / "messages.jsonl").read_text(encoding="utf-8")
    assert (tmp_path / "again.html").stat().st_size > 10_000


def test_the_demo_writes_its_report_by_default(demo_run: tuple[Path, Any]) -> None:
    cwd, _ = demo_run
    page = (cwd / "tidings-demo" / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="tidings-data"' in page


# ---------------------------------------------------------------- the folder


def test_an_edited_config_is_kept_and_used_until_force_replaces_it(tmp_path: Path) -> None:
    # Given a demo folder whose config the user edited (no review requests)
    prepare(tmp_path / "d")
    config = tmp_path / "d" / "config.toml"
    edited = config.read_text(encoding="utf-8").replace('id = "review-request"\n', 'id = "review-request"\nenabled = false\n')
    config.write_text(edited, encoding="utf-8")
    # When the demo runs again
    result = tidings("demo", "--dir", "d", "--no-report", cwd=tmp_path)
    # Then it says so, keeps the edit, and runs it
    assert result.returncode == 0, result.stderr
    assert "kept your edited d/config.toml (pass --force to regenerate it)" in result.stderr
    assert config.read_text(encoding="utf-8") == edited
    records = lines_of(tmp_path / "d" / "messages.jsonl")
    assert records and not any(r["rule"] == "review-request" for r in records)
    assert not (tmp_path / "d" / "report.html").exists()
    # and --force writes the demo's own config again
    forced = tidings("demo", "--dir", "d", "--force", "--no-report", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert config.read_text(encoding="utf-8") == config_text()
    assert any(r["rule"] == "review-request" for r in lines_of(tmp_path / "d" / "messages.jsonl"))


def test_files_the_demo_wrote_follow_a_new_seed_and_edited_ones_stay(tmp_path: Path) -> None:
    first = prepare(tmp_path, seed=1)
    assert first.kept == ()
    again = prepare(tmp_path, seed=2)
    assert again.kept == ()
    assert (tmp_path / "events.jsonl").read_text(encoding="utf-8") == "".join(
        json.dumps(e, ensure_ascii=False) + "\n" for e in generate_events(seed=2))
    with (tmp_path / "events.jsonl").open("a", encoding="utf-8") as events:
        events.write("\n")
    assert prepare(tmp_path, seed=3).kept == ("events.jsonl",)
    assert prepare(tmp_path, seed=3, force=True).kept == ()


def test_a_file_in_the_folder_the_demo_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# mine\n", encoding="utf-8")
    assert prepare(tmp_path).kept == ("config.toml",)
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "# mine\n"


def test_a_month_that_is_not_a_month_is_one_clear_line(tmp_path: Path) -> None:
    result = tidings("demo", "--month", "March", cwd=tmp_path)
    assert result.returncode == 2
    assert "'March' is not a month (use YYYY-MM" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "tidings-demo").exists()


# ---------------------------------------------------------------- on a terminal


def test_the_progress_bar_is_drawn_on_stderr_when_it_is_a_terminal(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    # Given stderr is a terminal of 100 columns (stdout stays a pipe)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        process = subprocess.Popen([sys.executable, "-m", "tidings.cli", "demo", "--no-report"], cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=follower, text=True)
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:   # the terminal closes when the process ends (EIO on Linux)
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = process.communicate(timeout=300)
    finally:
        os.close(leader)
    # Then the bar is drawn there, and the summary on stdout is the same as without a terminal
    assert process.returncode == 0
    assert b"simulating the month" in drawn and b"event" in drawn
    assert re.search(rb"\d+/\d+", drawn)
    assert stdout.startswith("tidings demo: Lumen, a salon chain in Warsaw and Kyiv, March 2026 (seed 2026)")


def test_run_from_the_virtual_environment_the_demo_prints_a_command_the_user_can_paste(tmp_path: Path) -> None:
    import shutil
    script = Path(sys.executable).with_name("tidings")
    # a PATH without the virtual environment, as after `make demo` in a fresh shell
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).resolve() != script.parent.resolve())
    if shutil.which("tidings", path=path):
        pytest.skip("another tidings is on PATH")
    result = subprocess.run([str(script), "demo", "--dir", str(tmp_path / "d")], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PATH": path}, timeout=120)
    assert result.returncode == 0, result.stderr
    line = next(line.strip() for line in result.stdout.splitlines() if " simulate --config " in line)
    command = shlex.split(line)[0]
    assert Path(command).resolve() == script.resolve()
