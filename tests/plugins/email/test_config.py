"""The [channels.email] table, structured by the core's one converter as `tidings check` does."""

from __future__ import annotations

from typing import Any

import pytest
from tidings.converter import converter
from tidings.testing import table_problems
from tidings_email.config import PASSWORD_ENV, EmailConfig


def problems(table: dict[str, Any]) -> list[str]:
    return table_problems(EmailConfig, table)


def test_an_empty_table_gives_a_local_relay_on_port_25_without_tls() -> None:
    config = converter.structure({}, EmailConfig)
    assert (config.host, config.port, config.security, config.username, config.timeout) == ("localhost", 25, "none", "", 10.0)


def test_a_full_table_is_structured_and_its_password_kept_out_of_repr() -> None:
    config = converter.structure({
        "host": "smtp.example.com", "port": 465, "security": "ssl", "username": "tidings", "password": "s3cret",
        "sender": "Salon Ola <hello@salon.example>", "reply_to": "desk@salon.example",
        "senders_by_location": {"old-town": "Salon Ola Old Town <oldtown@salon.example>"}, "timeout": 5,
        "ca_file": "/etc/ssl/private-ca.pem", "message_id_domain": "mail.salon.example",
    }, EmailConfig)
    assert (config.port, config.security, config.timeout) == (465, "ssl", 5.0)
    assert config.senders_by_location == {"old-town": "Salon Ola Old Town <oldtown@salon.example>"}
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(("table", "expected"), [
    ({"security": "tls"}, "security: 'tls' is not a known security (choose one of: none, starttls, ssl;"),
    ({"port": 0}, "port: 0 is not a TCP port"),
    ({"timeout": 0}, "timeout: 0 is not a positive number of seconds"),
    ({"sender": "Salon Ola"}, "sender: 'Salon Ola' is not one mailbox"),
    ({"reply_to": "desk@salon"}, "reply_to: 'desk@salon' does not hold a valid e-mail address"),
    ({"senders_by_location": {"old-town": "oldtown"}},
     "senders_by_location: old-town: 'oldtown' does not hold a valid e-mail address"),
    ({"host": "smtp.example.com\r\nRCPT TO:<x@example.com>"}, "host: 'smtp.example.com\\r\\nRCPT"),
    ({"message_id_domain": "=?utf-8?q?x=0D=0A?="}, "message_id_domain: '=?utf-8?q?x=0D=0A?=' is not a domain name"),
    ({"message_id_domain": "mail salon"}, "message_id_domain: 'mail salon' is not a domain name"),
])
def test_a_bad_value_is_reported_under_its_key_with_the_value(table: dict[str, Any], expected: str) -> None:
    [problem] = problems(table)
    assert problem.startswith(expected)


def test_every_bad_value_is_reported_not_only_the_first() -> None:
    assert [p.partition(":")[0] for p in problems({"port": 70000, "security": "tls", "sender": "x"})] == [
        "port", "security", "sender"]


def test_an_unknown_key_is_reported_with_the_allowed_ones() -> None:
    [problem] = problems({"from": "hello@salon.example"})
    assert problem.startswith("from: unknown key 'from' (allowed: ")
    assert "sender" in problem


def test_a_location_override_replaces_the_sender_for_that_location_only() -> None:
    config = EmailConfig(sender="hello@salon.example", senders_by_location={"old-town": "oldtown@salon.example"})
    assert config.sender_for("old-town") == "oldtown@salon.example"
    assert config.sender_for("riverside") == "hello@salon.example"
    assert config.sender_for(None) == "hello@salon.example"


def test_the_password_falls_back_to_the_environment() -> None:
    assert EmailConfig(password="set").secret({PASSWORD_ENV: "env"}) == "set"
    assert EmailConfig().secret({PASSWORD_ENV: "env"}) == "env"
    assert EmailConfig().secret({}) == ""
