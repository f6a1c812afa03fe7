"""The e-mail channel as the core registers it: through its hook and its entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
import tidings_email.plugin
from tidings import Contact
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings.testing import Arrival, ChannelContract, ContractPeer
from tidings_email.addresses import email_addresses
from tidings_email.config import EmailConfig
from tidings_email.headers import IDEMPOTENCY_HEADER

from .conftest import MailServer


class TestEmailChannelContract(ChannelContract):
    """The channel contract, against a local aiosmtpd server."""

    plugin = tidings_email.plugin
    name = "email"
    distribution = "tidings-email"
    sample_table = {"host": "smtp.salon.example", "port": 587, "security": "starttls", "username": "tidings",
                    "password": "secret", "sender": "Salon Ola <hello@salon.example>"}

    @pytest.fixture
    def peer(self, smtp_server: MailServer) -> ContractPeer:
        def arrivals() -> list[Arrival]:
            found = []
            for received in smtp_server.handler.received:
                email = received.message
                bodies = {kind: email.get_body((kind,)) for kind in ("plain", "html")}
                found.append(Arrival(str(email[IDEMPOTENCY_HEADER]), {
                    "subject": str(email["Subject"]),
                    **{part: body.get_content() for part, body in (("text", bodies["plain"]), ("html", bodies["html"]))
                       if body is not None}}))
            return found

        handler = smtp_server.handler
        return ContractPeer(settings=smtp_server.config(), contact=Contact(id="c-1", email="anna@example.com"),
                            addresses=("anna@example.com",), arrivals=arrivals,
                            fail_next=lambda transient: handler.then("451 4.3.0 try again later" if transient
                                                                     else "554 5.6.0 message content rejected"))


def test_the_plugin_registers_one_email_channel_with_subject_text_and_html(email_channel: Channel) -> None:
    assert list(tidings_email.plugin.tidings_channels()) == [email_channel]
    assert email_channel.name == "email"
    assert email_channel.parts == ("subject", "text", "html")
    assert email_channel.config_type is EmailConfig
    assert email_channel.addresses is email_addresses
    assert email_channel.summary


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
