"""The report of a run: counts, timelines and one self-contained HTML page that shows what simulate printed.

The page is opened in a real browser: Debian's headless Chromium, driven over the DevTools protocol.
Locally the browser tests skip when /usr/bin/chromium is missing; under CI=true they fail.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tidings.config import parse_config
from tidings.demo import config_text, prepare
from tidings.report import (
    Summary,
    client_text,
    interesting,
    summary_text,
    table,
    timelines,
)
from tidings.report.page import render, report_data
from tidings.simulate import run
from tidings.testing import unavailable

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1280,900")


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def embedded(page: str) -> dict[str, Any]:
    """The data a report page carries."""
    found = re.search(r'<script id="tidings-data" type="application/json">(.*?)</script>', page, re.DOTALL)
    assert found
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`tidings simulate --explain --report` on the demo month with one malformed line added."""
    folder = tmp_path_factory.mktemp("report")
    prepared = prepare(folder)
    with prepared.events.open("a", encoding="utf-8") as events:
        events.write('{"id": "evt-broken", "type": "appointment.created"}\n')
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "simulate", "--config", str(prepared.config),
                             "--events", str(prepared.events), "--explain", "--output", str(folder / "out.jsonl"),
                             "--report", str(folder / "report.html")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode in (0, 1), result.stderr   # 1 where simulate fails a run that rejected events
    records = lines_of(folder / "out.jsonl")
    taken = sum(1 for line in prepared.events.read_text(encoding="utf-8").splitlines() if line.strip()) - 1
    return {"folder": folder, "stderr": result.stderr, "records": records, "events": taken,
            "page": folder / "report.html", "html": (folder / "report.html").read_text(encoding="utf-8")}


def expected_counts(records: list[dict[str, Any]], zone: str = "Europe/Warsaw") -> dict[str, Any]:
    """What the page must show, counted from simulate's own output lines.

    A message the manual channel queued for staff (``"status": "queued"``) is one of its channel's
    messages, as the summary counts it; everything else with a status is not a message.
    """
    sent = [r for r in records if r.get("status", "queued") == "queued"]
    return {
        "cells": Counter(f"{r['rule']} {r['channel']}" for r in sent),
        "channels": Counter(r["channel"] for r in sent),
        "skipped": Counter(r["reason"] for r in records if r.get("status") == "skipped"),
        "days": Counter(f"{datetime.fromisoformat(r['at']).astimezone(ZoneInfo(zone)).date()} {r['rule']}" for r in sent),
        "sent": len(sent), "not_sent": sum(r.get("status") == "skipped" for r in records),
        "failed": sum(r.get("status") == "failed" for r in records),
        "subjects": len({r["subject"] for r in records}),
    }


# ---------------------------------------------------------------- counts and text


def test_the_report_embeds_the_counts_simulate_wrote(simulated: dict[str, Any]) -> None:
    data = embedded(simulated["html"])
    want = expected_counts(simulated["records"])
    summary = data["summary"]
    assert {f"{s['rule']} {s['channel']}": s["count"] for s in summary["sent"]} == want["cells"]
    assert {s["reason"]: s["count"] for s in summary["skipped"]} == want["skipped"]
    assert summary["total_sent"] == want["sent"] and summary["total_skipped"] == want["not_sent"]
    assert summary["rejected"] == 1
    assert {f"{d['day']} {rule}": n for d in data["days"] for rule, n in d["rules"].items()} == want["days"]
    # every subject simulate wrote about has a timeline, and its sent lines are the messages simulate wrote
    assert {s["subject"] for s in data["subjects"]} == {r["subject"] for r in simulated["records"]}
    told = sorted((s["subject"], i["rule"], i["channel"]) for s in data["subjects"] for i in s["items"] if i["kind"] == "sent")
    assert told == sorted((r["subject"], r["rule"], r["channel"]) for r in simulated["records"] if "status" not in r)


def test_simulate_prints_its_summary_on_stderr_with_the_rejected_events(simulated: dict[str, Any]) -> None:
    want = expected_counts(simulated["records"])
    stderr = simulated["stderr"]
    assert re.search(rf"^{want['sent']} messages sent, {want['not_sent']} not sent, from \d+ events \(1 rejected\)$", stderr, re.MULTILINE)
    for cell, n in want["cells"].items():
        rule, channel = cell.split()
        assert re.search(rf"^  {re.escape(rule)}\s.*\b{n}\b", stderr, re.MULTILINE), (rule, channel, n)
    for reason, n in want["skipped"].items():
        assert re.search(rf"^  {reason}\s+{n}\s", stderr, re.MULTILINE), (reason, n)
    assert f"report: {simulated['page']}" in stderr


def test_the_summary_table_has_a_column_per_channel_and_a_total_row() -> None:
    records = [{"rule": "r1", "channel": "sms"}, {"rule": "r1", "channel": "email"}, {"rule": "r2", "channel": "sms"},
               {"rule": "r2", "status": "skipped", "reason": "no_consent"}, {"rule": "r1", "status": "dropped", "reason": "x"}]
    text = summary_text(Summary.of(records, events=4, rejected=0, rules=["r2", "r1"], channels=["sms", "email", "push"]))
    assert text.splitlines()[0] == "3 messages sent, 1 not sent, from 4 events"
    assert "  sent   sms  email  total" in text     # push sent nothing: no column for it
    assert "  r2       1      -      1" in text     # in the configuration's order
    assert "  r1       1      1      2" in text
    assert "  total    2      1      3" in text
    assert "  no_consent  1  no consent for the rule's channels" in text
    assert "  planning: 1 dropped" in text


def test_table_aligns_every_column_and_numbers_to_the_right() -> None:
    lines = table(["NAME", "N", "NOTE"], [["a", 1, "x"], ["longer", 120, None]], right=[1])
    assert lines == ["NAME      N  NOTE", "a         1  x", "longer  120"]


def _demo_run(tmp_path: Path, extra: list[dict[str, Any]] | None = None) -> Any:
    config = parse_config(tomllib.loads(config_text()), path=tmp_path / "config.toml")
    prepared = prepare(tmp_path)
    lines = prepared.events.read_text(encoding="utf-8").splitlines()
    lines += [json.dumps(e) for e in extra or []]
    return config, run(config, lines)


def test_the_three_clients_are_one_of_each_kind_and_their_timelines_are_in_order(tmp_path: Path) -> None:
    config, result = _demo_run(tmp_path)
    picked = interesting(result)
    assert [why for _, why in picked] == ["moved back and forth", "repeat visit held, then restored", "cancelled"]
    assert len({client for client, _ in picked}) == 3
    stories = timelines(result, config)
    for client, why in picked:
        text = client_text([t for t in stories if t.client == client], why=why)
        assert text.splitlines()[0].startswith(f"{client} · ") and text.splitlines()[0].endswith(f": {why}")
        days = [datetime.strptime(line.split("  ")[1], "%a %d %b %H:%M") for line in text.splitlines()[1:]]
        assert len(days) >= 5
    restored = next(client for client, why in picked if why.startswith("repeat"))
    text = client_text([t for t in stories if t.client == restored])
    assert re.search(r"repeat-\w+ held \(a-\d+ is booked in the same category\)", text)
    assert re.search(r"repeat-\w+ restored, due .* \(that booking was cancelled\)", text)


# ---------------------------------------------------------------- one self-contained page


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "action", "poster", "data")]


def test_the_page_loads_nothing_from_anywhere(simulated: dict[str, Any]) -> None:
    parser = _Refs()
    parser.feed(simulated["html"])
    assert all(ref.startswith("data:") for ref in parser.refs), parser.refs
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", simulated["html"])
    policy = next(a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert policy and policy.startswith("default-src 'none'")


def test_a_client_name_cannot_end_the_data_script_or_add_markup(tmp_path: Path) -> None:
    hostile = "</script><script>alert(1)</script><!--"
    event = {"id": "evt-x", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
             "subject": {"id": "a-x", "status": "pending", "start": "2026-03-20T10:00:00+01:00", "location": "warsaw",
                         "client": {"id": "c-x", "name": hostile, "phone": "+48600100200",
                                    "consents": {"sms": True}}}}
    config, result = _demo_run(tmp_path, [event])
    page = render(report_data(result, config, title="<b>t</b>"))
    assert page.count("</script>") == 2 and "<script>alert" not in page
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in page
    assert next(s for s in embedded(page)["subjects"] if s["subject"] == "a-x")["client_name"] == hostile


# ---------------------------------------------------------------- in a real browser


class Chromium:
    """Headless Debian Chromium with a fresh profile, driven over the DevTools protocol (a websocket)."""

    def __init__(self, stack: ExitStack) -> None:
        from websockets.sync.client import connect

        profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="tidings-chromium-"))
        self.process = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.drain: threading.Thread | None = None
        stack.callback(self._stop)
        assert self.process.stderr is not None
        url = None
        for line in self.process.stderr:     # Chromium prints its endpoint on stderr once it listens
            if "DevTools listening on " in line:
                url = line.split("DevTools listening on ", 1)[1].strip()
                break
        if url is None:
            raise RuntimeError(f"chromium exited ({self.process.poll()}) without a DevTools endpoint")
        self.drain = threading.Thread(target=self.process.stderr.read, daemon=True)   # keep its pipe from filling
        self.drain.start()
        self.socket = stack.enter_context(connect(url, max_size=None, open_timeout=30))
        self.calls = 0
        self.events: list[dict[str, Any]] = []

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.drain is not None:
            self.drain.join(timeout=15)   # it ends at the pipe's end, once chromium is gone
        assert self.process.stderr is not None
        self.process.stderr.close()

    def _receive(self, deadline: float) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> dict[str, Any]:
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params or {},
                                     **({"sessionId": session} if session else {})}))
        deadline = time.monotonic() + 60
        while True:
            message = self._receive(deadline)
            if message.get("id") == self.calls:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def open(self, url: str) -> str:
        """A new tab at `url`, once its load event fired; returns its session."""
        self.events.clear()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session for e in self.events):
            self.events.append(self._receive(deadline))
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
        if "exceptionDetails" in result:
            raise AssertionError(result["exceptionDetails"])
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Every exception, console error or warning, and browser log error the page caused."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(str(params["exceptionDetails"].get("exception", {}).get("description")
                                 or params["exceptionDetails"].get("text")))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                found.append(params["entry"].get("text", ""))
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with ExitStack() as stack:
        yield Chromium(stack)


_COUNTS = """(() => {
  const n = e => Number(e.textContent), out = {kpi: {}, cells: {}, channels: {}, skipped: {}, days: {}};
  document.querySelectorAll('[data-kpi]').forEach(e => { out.kpi[e.getAttribute('data-kpi')] = n(e); });
  document.querySelectorAll('td[data-rule][data-channel]').forEach(e => {
    if (n(e)) out.cells[e.getAttribute('data-rule') + ' ' + e.getAttribute('data-channel')] = n(e); });
  document.querySelectorAll('[data-channel-total]').forEach(e => { out.channels[e.getAttribute('data-channel-total')] = n(e); });
  document.querySelectorAll('[data-skip-reason]').forEach(e => { out.skipped[e.getAttribute('data-skip-reason')] = n(e); });
  document.querySelectorAll('rect[data-day]').forEach(e => {
    out.days[e.getAttribute('data-day') + ' ' + e.getAttribute('data-rule')] = Number(e.getAttribute('data-count')); });
  return out;
})()"""

_SEARCH = """(query => {
  const box = document.getElementById('search');
  box.value = query;
  box.dispatchEvent(new Event('input'));
  return {matches: Number(document.getElementById('match-count').getAttribute('data-matches')),
          shown: [...document.querySelectorAll('#timeline .subject')].map(e => ({
            subject: e.getAttribute('data-subject'), client: e.getAttribute('data-client'),
            rules: [...e.querySelectorAll('tr[data-rule]')].map(r => r.getAttribute('data-rule'))}))};
})"""


def test_the_browser_harness_sees_a_page_error(chromium: Chromium) -> None:
    # the check below is only worth something if an error on the page would show up in it
    chromium.open("data:text/html,<p>hi</p><script>console.error('seen'); undefinedFunction();</script>")
    problems = chromium.problems()
    assert any("seen" in p for p in problems) and any("undefinedFunction" in p for p in problems)


def test_the_report_opens_in_chromium_without_errors_and_shows_the_runs_counts(
        chromium: Chromium, simulated: dict[str, Any]) -> None:
    # Given the page simulate wrote, opened from disk
    session = chromium.open(simulated["page"].resolve().as_uri())
    # Then nothing went wrong and nothing was fetched but the page itself
    assert chromium.problems() == []
    assert chromium.requests() == [simulated["page"].resolve().as_uri()]
    # and every count it shows is the count of simulate's output lines
    want = expected_counts(simulated["records"])
    shown = chromium.evaluate(session, _COUNTS)
    assert shown["kpi"] == {"events": simulated["events"], "sent": want["sent"], "skipped": want["not_sent"], "failed": want["failed"],
                            "subjects": want["subjects"], "clients": len({r["client"] for r in simulated["records"]})}
    assert shown["cells"] == want["cells"]
    assert shown["channels"] == want["channels"]
    assert shown["skipped"] == want["skipped"]
    assert shown["days"] == want["days"]


def test_the_reports_timeline_finds_a_client_a_subject_and_a_rule(chromium: Chromium, simulated: dict[str, Any]) -> None:
    records = simulated["records"]
    session = chromium.open(simulated["page"].resolve().as_uri())
    search = lambda query: chromium.evaluate(session, f"{_SEARCH}({json.dumps(query)})")
    # a client: exactly that client's subjects
    busiest = Counter(r["client"] for r in records).most_common(1)[0][0]
    found = search(busiest)
    subjects = {r["subject"] for r in records if r["client"] == busiest}
    assert found["matches"] == len(subjects) and {s["subject"] for s in found["shown"]} == subjects
    assert {s["client"] for s in found["shown"]} == {busiest}
    # a subject id: that one subject, not the ones whose id merely starts the same
    found = search("a-1001")
    assert [s["subject"] for s in found["shown"]] == ["a-1001"]
    # a rule: every subject with a record of that rule, each showing it
    with_rule = {r["subject"] for r in records if r["rule"] == "repeat-hair"}
    found = search("repeat-hair")
    assert found["matches"] == len(with_rule)
    assert all("repeat-hair" in s["rules"] for s in found["shown"])
    # and nothing: a clear "no subject matches"
    assert search("no-such-thing")["matches"] == 0
    assert chromium.problems() == []


def test_a_hostile_client_name_is_shown_as_text_in_the_browser(chromium: Chromium, tmp_path: Path) -> None:
    hostile = "<img src=x onerror=console.error('pwned')>"
    event = {"id": "evt-x", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
             "subject": {"id": "a-x", "status": "pending", "start": "2026-03-20T10:00:00+01:00", "location": "warsaw",
                         "client": {"id": "c-x", "name": hostile, "phone": "+48600100200", "consents": {"sms": True}}}}
    config, result = _demo_run(tmp_path, [event])
    page = tmp_path / "page.html"
    page.write_text(render(report_data(result, config)), encoding="utf-8")
    session = chromium.open(page.resolve().as_uri() + "#c-x")
    assert chromium.evaluate(session, "document.querySelector('[data-subject=\"a-x\"] .who').textContent") == f"c-x · {hostile}"
    assert chromium.evaluate(session, "document.querySelectorAll('img').length") == 0
    assert chromium.problems() == []
