"""`tidings init`: a starter configuration that passes `tidings check` as written (PRODUCT §10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tidings.config import load_config


def tidings(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings.cli", *args], capture_output=True, text=True, env=env)


def test_the_starter_configuration_passes_check_with_the_usual_rules(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    assert tidings("init", str(path)).returncode == 0
    checked = tidings("check", str(path))
    assert checked.returncode == 0, checked.stderr
    config = load_config(path)
    assert {(r.trigger, r.id) for r in config.rules} == {
        ("status-change", "booking-confirmed"), ("pre-visit", "reminder-24h"), ("pre-visit", "reminder-1h"),
        ("post-visit", "review-request"), ("repeat-visit", "repeat-nails")}


def test_init_does_not_overwrite_a_configuration_without_force(tmp_path: Path) -> None:
    path = tmp_path / "tidings.toml"
    path.write_text("# mine\n", encoding="utf-8")
    refused = tidings("init", str(path))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert tidings("init", "--force", str(path)).returncode == 0
    assert "[[rules]]" in path.read_text(encoding="utf-8")


def test_a_starter_configuration_with_a_kyiv_location_reaches_kyiv_clients_by_their_national_numbers(tmp_path: Path) -> None:
    # Given the starter configuration (default_region = "PL") and a second salon in Kyiv
    path = tmp_path / "tidings.toml"
    assert tidings("init", str(path)).returncode == 0
    with path.open("a", encoding="utf-8") as f:
        f.write('\n[locations.kyiv]\nname = "Kyiv"\ntimezone = "Europe/Kyiv"\n')
    # (checked as where the worker runs: the starter keeps the SMS token out of the file, in the environment)
    checked = tidings("check", str(path), env={**os.environ, "TIDINGS_SMS_AUTH_TOKEN": "token"})
    assert checked.returncode == 0, checked.stderr
    assert "warning" not in checked.stderr, checked.stderr
    # When a client of each salon books with a national number
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps({
        "id": f"e-{place}", "type": "appointment.created", "occurred_at": "2026-05-04T09:00:00+00:00",
        "subject": {"id": f"a-{place}", "status": "confirmed", "start": "2026-05-07T12:00:00+00:00", "location": place,
                    "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                    "client": {"id": f"c-{place}", "name": "Olena", "phone": phone, "consents": {"sms": True}}}}) + "\n"
        for place, phone in (("kyiv", "067 111 2233"), ("main", "600 100 200"))), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    ran = tidings("simulate", "--config", str(path), "--events", str(events), "--output", str(out), "--explain")
    assert ran.returncode == 0, ran.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # Then each is read in its salon's country: Kyiv's zone wins over default_region
    sent = {(r["subject"], r["rule"], r["to"]) for r in records if r.get("channel") == "sms" and "reason" not in r}
    assert {("a-kyiv", "reminder-24h", "+380671112233"), ("a-kyiv", "reminder-1h", "+380671112233"),
            ("a-main", "reminder-24h", "+48600100200"), ("a-main", "reminder-1h", "+48600100200")} <= sent
    assert not [r for r in records if r.get("reason") == "invalid_address"]
