"""The e-mail channel as the core registers it: through its hook and its entry point."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
import tidings_email.plugin
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings_email.addresses import email_addresses
from tidings_email.config import EmailConfig


def test_the_plugin_registers_one_email_channel_with_subject_text_and_html(email_channel: Channel) -> None:
    assert list(tidings_email.plugin.tidings_channels()) == [email_channel]
    assert email_channel.name == "email"
    assert email_channel.parts == ("subject", "text", "html")
    assert email_channel.config_type is EmailConfig
    assert email_channel.addresses is email_addresses
    assert email_channel.summary


def test_the_entry_point_named_email_loads_the_plugin_module() -> None:
    [entry_point] = [ep for ep in entry_points(group="tidings.channels") if ep.name == "email"]
    assert entry_point.value == "tidings_email.plugin"
    assert entry_point.load() is tidings_email.plugin
    assert entry_point.dist is not None and entry_point.dist.metadata["Name"] == "tidings-email"


@pytest.mark.parametrize(("parts", "fmt"), [
    ({"subject": "s", "text": "t", "html": "<p>t</p>"}, "text+html"),
    ({"subject": "s", "text": "t", "html": ""}, "text"),
    ({"subject": "s", "text": "", "html": "<p>t</p>"}, "html"),
])
def test_describe_tells_which_bodies_a_message_carries(email_channel: Channel, parts: dict[str, str], fmt: str) -> None:
    assert email_channel.describe is not None
    assert email_channel.describe(parts) == {"format": fmt}


def test_connect_lists_every_missing_setting(email_channel: Channel, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMTP_PASSWORD", raising=False)

    with pytest.raises(ConfigError) as bad:
        email_channel.connect(EmailConfig(username="tidings", ca_file=str(tmp_path / "missing.pem")))

    assert [p.path for p in bad.value.problems] == [
        "channels.email.sender", "channels.email.password", "channels.email.ca_file"]
    assert "TIDINGS_SMTP_PASSWORD" in str(bad.value)


def test_connect_opens_no_connection_until_the_first_send(email_channel: Channel, closed_port: int) -> None:
    # a worker starts while the SMTP server is down; the first send then fails transiently
    transport = email_channel.connect(EmailConfig(host="127.0.0.1", port=closed_port, sender="hello@salon.example"))
    transport.close()


def test_verify_finds_a_missing_host_and_sender_and_warns_of_what_this_machine_lacks(
        email_channel: Channel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_SMTP_PASSWORD", raising=False)
    assert email_channel.verify is not None
    found = list(email_channel.verify(EmailConfig(host="", username="tidings", ca_file=str(tmp_path / "missing.pem"))))
    assert [(p.path, p.warning) for p in found] == [
        ("channels.email.host", False), ("channels.email.sender", False),
        ("channels.email.password", True), ("channels.email.ca_file", True)]
    assert "$TIDINGS_SMTP_PASSWORD in the worker's environment" in found[2].message
    monkeypatch.setenv("TIDINGS_SMTP_PASSWORD", "secret")
    assert list(email_channel.verify(EmailConfig(host="smtp.salon.example", sender="hello@salon.example",
                                                 username="tidings"))) == []
