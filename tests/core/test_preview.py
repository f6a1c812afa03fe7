"""`tidings preview` and the SMS costs `tidings check` prints (PRODUCT §10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tidings.config import load_config
from tidings.costs import cost_lines
from tidings.preview import preview

CONFIG = """
[tidings]
timezone = "Europe/Warsaw"

[plugins]
channels = ["sms", "email"]
triggers = ["pre-visit"]

[channels.sms]
account_sid = "AC00000000000000000000000000000000"
sender = "+48600000000"

[channels.email]
sender = "Salon <hello@salon.example>"

[locations.old-town]
name = "Old Town"
timezone = "Europe/Warsaw"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "24h"
channel = ["sms", "email"]
template = "reminder"

[templates.reminder]
sms = "Hi {{ client.name }}, see you {{ subject.start | datetime }} at {{ location.name }}."
email = { subject = "Your visit on {{ subject.start | date }}", text = "See you at {{ subject.start | time }}." }

[templates.reminder.uk]
sms = "Вітаємо, {{ client.name }}! Нагадуємо про ваш візит {{ subject.start | datetime }} до {{ location.name }}. Якщо плани змінилися, будь ласка, повідомте нас заздалегідь."
"""


def write(tmp_path: Path) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_preview_renders_every_channel_of_the_rule_with_sms_segments(tmp_path: Path) -> None:
    text = preview(load_config(write(tmp_path)), "reminder-24h")
    assert "== reminder-24h · sms · template 'reminder' · locale en · GSM-7, 1 segment" in text
    assert "Hi Ola Nowak, see you Mar 10, 2026, 2:00 PM at Old Town." in text
    assert "-- subject\nYour visit on Mar 10, 2026" in text


def test_preview_in_a_locale_uses_its_text_and_date_format(tmp_path: Path) -> None:
    text = preview(load_config(write(tmp_path)), "reminder-24h", locale="uk")
    assert "locale uk · UCS-2, 3 segments" in text
    assert "10 бер. 2026 р., 14:00" in text


def test_preview_of_a_given_event_uses_its_subject(tmp_path: Path) -> None:
    event = {"id": "e-1", "type": "appointment.created", "occurred_at": "2026-05-01T10:00:00+02:00",
             "subject": {"id": "a-9", "status": "confirmed", "start": "2026-05-04T09:30:00+02:00", "location": "old-town",
                         "client": {"id": "c-9", "name": "Marco Rossi", "phone": "+393331234567"}}}
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "preview", "--config", str(write(tmp_path)),
                             "--rule", "reminder-24h", "--event", str(tmp_path / "event.json")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Hi Marco Rossi, see you May 4, 2026, 9:30 AM at Old Town." in result.stdout


def test_check_shows_each_sms_rules_cost_per_locale(tmp_path: Path) -> None:
    [line] = cost_lines(load_config(write(tmp_path)))
    # the unlocalised text serves every locale but Ukrainian: it is counted once
    assert line.startswith("sms reminder-24h: default GSM-7, 1 segment")
    assert line.count(";") == 1 and "uk UCS-2, 3 segments" in line
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(write(tmp_path))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "uk UCS-2, 3 segments" in result.stdout


def test_preview_of_an_unknown_rule_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "preview", "--config", str(write(tmp_path)),
                             "--rule", "nope"], capture_output=True, text=True)
    assert result.returncode != 0 and "no rule 'nope' in the configuration (rules: reminder-24h)" in result.stderr


MONTHLY = """
[tidings]
timezone = "Europe/Warsaw"
locale = "pl"

[plugins]
channels = ["sms"]
triggers = ["pre-visit"]

[channels.sms]
transliterate = {transliterate}
provider = "json"
url = "https://sms.example/send"

[[rules]]
id = "reminder-24h"
trigger = "pre-visit"
before = "24h"
channel = "sms"
template = "reminder"

[templates.reminder.pl]
sms = "Przypominamy o wizycie {{{{ subject.start | datetime }}}}. Do zobaczenia!"

[templates.reminder.it]
sms = "Ciao{{% if subject.start.month in [1, 2, 3, 10] %}} ł{{% endif %}}{{% if subject.start.month == 12 %}}{{{{ 'ł' * 80 }}}}{{% endif %}}"
"""


def monthly(tmp_path: Path, *, transliterate: bool = False) -> Path:
    path = tmp_path / "tidings.toml"
    path.write_text(MONTHLY.format(transliterate=str(transliterate).lower()), encoding="utf-8")
    return path


def test_check_counts_a_visit_in_each_month_and_names_the_months_that_cost_more(tmp_path: Path) -> None:
    [line] = cost_lines(load_config(monthly(tmp_path)))
    # October's "paź" alone makes the Polish reminder UCS-2; transliterated, every month is GSM-7
    assert "pl UCS-2, 1 segment in Oct (GSM-7, 1 segment in the other months) · transliterated GSM-7, 1 segment;" in line
    assert "(sent)" not in line


def test_check_names_the_worst_month_first_then_the_others_that_differ(tmp_path: Path) -> None:
    [line] = cost_lines(load_config(monthly(tmp_path)))
    it = line.split("; ")[-1]
    assert it == ("it UCS-2, 2 segments in Dec (UCS-2, 1 segment in Jan–Mar, Oct · GSM-7, 1 segment in the other months)"
                  " · transliterated GSM-7, 1 segment")


def test_check_marks_the_transliterated_cost_as_sent_when_the_channel_transliterates(tmp_path: Path) -> None:
    [line] = cost_lines(load_config(monthly(tmp_path, transliterate=True)))
    assert "pl UCS-2, 1 segment in Oct (GSM-7, 1 segment in the other months) · transliterated GSM-7, 1 segment (sent);" in line
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(monthly(tmp_path, transliterate=True))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "transliterated GSM-7, 1 segment (sent)" in result.stdout


def test_preview_shows_the_cost_by_month_and_the_text_as_sent(tmp_path: Path) -> None:
    event = {"id": "e-1", "type": "appointment.created", "occurred_at": "2026-10-01T10:00:00+02:00",
             "subject": {"id": "a-9", "status": "confirmed", "start": "2026-10-14T09:30:00+02:00",
                         "client": {"id": "c-9", "name": "Łucja", "phone": "+48600100200", "locale": "pl"}}}
    (tmp_path / "event.json").write_text(json.dumps(event), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "preview", "--config", str(monthly(tmp_path, transliterate=True)),
                             "--rule", "reminder-24h", "--event", str(tmp_path / "event.json")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "locale pl · UCS-2, 1 segment, 57 characters · transliterated GSM-7, 1 segment\n" in result.stdout
    assert "   by month: UCS-2, 1 segment in Oct (GSM-7, 1 segment in the other months) · transliterated GSM-7, 1 segment (sent)\n" in result.stdout
    assert "-- text\nPrzypominamy o wizycie 14 paź 2026, 09:30. Do zobaczenia!\n" in result.stdout
    assert "-- text, as sent\nPrzypominamy o wizycie 14 paz 2026, 09:30. Do zobaczenia!\n" in result.stdout
