"""The README's main command on the example salon sends exactly what the example expects.

examples/salon/expected.jsonl lists every message (at, rule, channel, to, subject), worked out from
the spec: the confirmation, both reminders moved with the reschedule, Ivan's 1 h reminder dropped
by his cancellation and a CRM task for staff about it (the webhook channel, to the staff member's
id), the review request moved from Wednesday 18:10 to Thursday's opening, and the repeat-visit
invitation three weeks after the visit's start, across the change to summer time; and a message on each of the
other channels: the reschedule told by WhatsApp at once (to the phone in E.164 without "+", as the
Cloud API takes it), Ivan's cancellation in his Telegram chat (his ``addresses.telegram``), and the
thank-you after Ola's completed visit queued for staff (manual, ``"status": "queued"``, to her phone)
at the moment of completion.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("at", "rule", "channel", "to", "subject")


def readme_simulate_command() -> list[str]:
    """The simulate command the README gives, as arguments after `tidings`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if re.match(r"^\.venv/bin/tidings simulate ", line))
    return shlex.split(line)[1:]


def test_the_readme_command_sends_what_the_example_expects(tmp_path: Path) -> None:
    args = readme_simulate_command()
    assert args[:1] == ["simulate"] and "examples/salon/config.toml" in args
    result = subprocess.run([sys.executable, "-m", "tidings.cli", *args, "--output", str(tmp_path / "out.jsonl")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    sent = [{k: r[k] for k in KEYS} for r in records if "reason" not in r]
    expected = [json.loads(line) for line in (ROOT / "examples/salon/expected.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sent == expected
    # the manual channel's message is queued for staff, not sent: the record says so
    assert [r["rule"] for r in records if r.get("status") == "queued"] == ["thank-you-note"]
    # --explain (in the README's command) also says why the rest was not sent
    assert {"status": "dropped", "rule": "reminder-1h", "subject": "a-2"}.items() <= next(
        r for r in records if r.get("subject") == "a-2" and r.get("status") == "dropped").items()
