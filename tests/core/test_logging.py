"""Logging fit for a library: silent unless the host asks, routed through `logging`, masked on every path."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tidings.errors import TransientDeliveryError
from tidings.logging import Formatter, get_logger, mask

PHONE, EMAIL = "+48600100200", "ola.nowak@example.com"

HOST = textwrap.dedent('''
    import sys
    from datetime import datetime, timezone
    from tidings.clock import VirtualClock
    from tidings.config import parse_config
    from tidings.pipeline import build_pipeline
    from tidings.store.memory import MemoryStore
    from tidings.testing import RecordingTransport
    {setup}
    config = parse_config({{"tidings": {{"timezone": "Europe/Warsaw"}},
                           "plugins": {{"channels": ["sms", "email"], "triggers": ["status-change"]}},
                           "rules": [{{"id": "booked", "trigger": "status-change", "on": "created", "channel": "prefer_sms"}}]}})
    clock = VirtualClock(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))
    pipeline = build_pipeline(None, config, MemoryStore(), transports={{"sms": RecordingTransport("sms"),
                              "email": RecordingTransport("email")}}, clock=clock)
    for n, phone in enumerate(["{phone}", "not a phone"]):
        pipeline.publish({{"id": f"evt-{{n}}", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                          "subject": {{"id": f"a-{{n}}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                                      "client": {{"id": "c-1", "name": "Ola", "phone": phone, "email": "{email}",
                                                 "consents": {{"sms": True, "email": n == 1}}}}}}}})
    pipeline.ingest({{"id": "broken"}})          # a malformed event: an error line
    pipeline.enqueue_due()
    print("sent", len(pipeline.transports["sms"].sent) + len(pipeline.transports["email"].sent), file=sys.stderr)
''')


def host(tmp_path: Path, setup: str = "") -> subprocess.CompletedProcess[str]:
    script = tmp_path / "host.py"
    script.write_text(HOST.format(setup=setup, phone=PHONE, email=EMAIL), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)


def test_a_host_program_that_configures_no_logging_sees_no_output_from_tidings(tmp_path: Path) -> None:
    run = host(tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr.strip() == "sent 2"     # only the host's own line: tidings printed nothing


def test_the_hosts_logging_configuration_decides_and_every_line_is_masked(tmp_path: Path) -> None:
    run = host(tmp_path, setup="import logging; logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, "
                               "format='%(name)s %(levelname)s %(message)s')")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("tidings.pipeline INFO message_sent") for line in lines), lines
    assert any(line.startswith("tidings.pipeline ERROR event_rejected") for line in lines), lines
    assert PHONE not in run.stdout and EMAIL not in run.stdout and "600100200" not in run.stdout
    assert "+48600***200" in run.stdout


def test_a_record_carries_its_fields_for_a_structured_handler() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("tidings.test_logging")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        get_logger("tidings.test_logging").info("message_sent", rule="r", to=PHONE, details={"emails": [EMAIL]})
    finally:
        logger.removeHandler(handler)
    fields = records[0].tidings    # type: ignore[attr-defined]
    assert fields["event"] == "message_sent" and fields["rule"] == "r" and fields["to"] == "+48600***200"
    assert fields["details"] == {"emails": ["o***@example.com"]}


def test_a_plugin_logger_sits_under_the_tidings_logger() -> None:
    assert get_logger("tidings_sms.twilio")._logger.name == "tidings.sms.twilio"


def _record(error: BaseException, message: str) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        return logging.getLogger("dramatiq.worker.WorkerThread").makeRecord(
            "dramatiq.worker.WorkerThread", logging.WARNING, __file__, 1, message, (), sys.exc_info())


def test_an_expected_tidings_error_in_an_actor_is_one_line_without_a_traceback() -> None:
    record = _record(TransientDeliveryError(f"provider answered 503 for {PHONE}"),
                     f"Failed to process message tidings_dispatch('x', {{'phone': '{PHONE}'}}) with unhandled exception.")
    line = Formatter(json=True).format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["error"] == "TransientDeliveryError: provider answered 503 for +48600***200"
    assert "exception" not in data and PHONE not in line


def test_an_unexpected_error_keeps_its_traceback_masked_inside_one_json_line() -> None:
    record = _record(ValueError(f"cannot reach {EMAIL}"), "Failed to process message.")
    line = Formatter(json=True).format(record)
    assert "\n" not in line and EMAIL not in line
    assert "ValueError: cannot reach o***@example.com" in json.loads(line)["exception"]


def test_the_cli_masks_what_it_logs_at_debug_level(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(textwrap.dedent('''
        [plugins]
        channels = ["sms", "email"]
        triggers = ["status-change"]
        [[rules]]
        id = "booked"
        trigger = "status-change"
        on = "created"
        channel = "prefer_email"
    '''), encoding="utf-8")
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({"id": "e1", "type": "appointment.created", "occurred_at": "2026-03-02T09:00:00+01:00",
                                  "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                                              "client": {"id": "c-1", "phone": PHONE, "email": EMAIL,
                                                         "consents": {"sms": True, "email": True}}}}) + "\n"
                      + '{"id": "e2", "subject": {"client": {"email": "' + EMAIL + '"}}}\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "tidings.cli", "--log-level", "debug", "--log-json", "simulate",
                          "--config", str(config), "--events", str(events), "--output", str(tmp_path / "out.jsonl")],
                         capture_output=True, text=True, timeout=60)
    assert (tmp_path / "out.jsonl").read_text().count(EMAIL) == 1    # the output names the address: it is the result
    logged = [line for line in run.stderr.splitlines() if line.startswith("{")]
    assert any(json.loads(line)["event"] == "message_sent" for line in logged), run.stderr
    assert EMAIL not in run.stderr and PHONE not in run.stderr


@pytest.mark.parametrize(("text", "masked"), [
    (f"to {PHONE} and {EMAIL}", "to +48600***200 and o***@example.com"),
    ("call 600 100 200", "call 600***200"),
    ("order 42 of 2026-03-10", "order 42 of 2026-03-10"),
])
def test_mask_hides_phone_numbers_and_e_mail_addresses(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_a_captured_stream_handler_sees_masked_text() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(Formatter(json=False))
    logger = logging.getLogger("tidings.test_logging_text")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        get_logger("tidings.test_logging_text").warning("delivery_retried", rule="r", error=f"503 for {EMAIL}")
    finally:
        logger.removeHandler(handler)
    assert "delivery_retried rule=r error=503 for o***@example.com" in stream.getvalue()
