"""The WhatsApp channel as the core registers it: through its hook and its entry point, with the channel contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tidings import Contact, registry_for
from tidings.errors import ConfigError
from tidings.plugin_types import Channel
from tidings.testing import Arrival, ChannelContract, ContractPeer, new_imports

import tidings_whatsapp.plugin
from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate

from .conftest import PHONE_NUMBER_ID, TO, TOKEN, VERSION, CloudApi, parameters_of


class TestWhatsAppChannelContract(ChannelContract):
    """The channel contract against the local Cloud API: a template message, its text as the one parameter."""

    plugin = tidings_whatsapp.plugin
    name = "whatsapp"
    distribution = "tidings-whatsapp"
    sample_table = {"phone_number_id": PHONE_NUMBER_ID, "access_token": "token", "default_region": "PL",
                    "templates": {"reminder-24h": {"name": "visit_reminder", "language": "pl"}},
                    "default_template": {"name": "tidings_message"}, "languages": {"en": "en_US"}}

    @pytest.fixture
    def peer(self, cloud_api: CloudApi) -> ContractPeer:
        settings = WhatsAppConfig(base_url=cloud_api.url, api_version=VERSION, phone_number_id=PHONE_NUMBER_ID,
                                  access_token=TOKEN, timeout=0.5,
                                  default_template=WhatsAppTemplate(name="contract_test", language="en"))

        def arrivals() -> list[Arrival]:
            return [Arrival(body["biz_opaque_callback_data"], {"text": text})
                    for body in cloud_api.bodies() for text in parameters_of(body)]

        def fail_next(transient: bool) -> None:
            if transient:   # Meta's throughput limit: a 400 whose code says "later"
                cloud_api.then_error(130429, "Rate limit hit", details="Cloud API message throughput has been reached.")
            else:
                cloud_api.then_error(131026, "Message undeliverable")

        return ContractPeer(settings=settings, contact=Contact(id="c-1", phone="+48 600 100 200"), addresses=(TO,),
                            arrivals=arrivals, fail_next=fail_next)


@pytest.fixture
def channel() -> Channel:
    return registry_for(tidings_whatsapp.plugin).channels["whatsapp"]


def test_the_channel_has_one_short_text(channel: Channel) -> None:
    # the built-in texts' one-message, SMS-like text: free text in the window, a template's parameter outside it
    assert channel.parts == ("text",) and channel.role("text") == "short"
    assert channel.config_type is WhatsAppConfig


def test_registering_checking_and_verifying_never_import_the_http_client() -> None:
    imported = new_imports(
        "import tidings_whatsapp.plugin as plugin\n"
        "from tidings import Contact\n"
        "[channel] = plugin.tidings_channels()\n"
        "settings = channel.config_type(phone_number_id='1', default_region='PL')\n"
        "channel.addresses(Contact(id='c', phone='600 100 200'), settings)\n"
        "list(channel.verify(settings))\n")
    assert sorted(m for m in imported if m.split(".")[0] in ("httpx", "httpcore") or m == "tidings_whatsapp.transport") == []


def problems(channel: Channel, settings: WhatsAppConfig) -> list[tuple[str, bool]]:
    assert channel.verify is not None
    return [(p.path, p.warning) for p in channel.verify(settings)]


def test_verify_wants_the_phone_number_id_and_warns_of_a_token_or_templates_absent_here(
        channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_WHATSAPP_ACCESS_TOKEN", raising=False)
    assert problems(channel, WhatsAppConfig()) == [("channels.whatsapp.phone_number_id", False),
                                                   ("channels.whatsapp.access_token", True),
                                                   ("channels.whatsapp.templates", True)]
    monkeypatch.setenv("TIDINGS_WHATSAPP_ACCESS_TOKEN", "EAAG")
    complete = WhatsAppConfig(phone_number_id="1", default_template=WhatsAppTemplate(name="tidings_message"))
    assert problems(channel, complete) == []


def test_connect_refuses_a_missing_token_but_not_a_channel_without_templates(
        channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIDINGS_WHATSAPP_ACCESS_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        channel.connect(WhatsAppConfig(phone_number_id="1"))
    assert [(p.path, p.warning) for p in caught.value.problems] == [("channels.whatsapp.access_token", False)]
    # a channel without templates still sends inside the window: it is a warning, not a refusal
    channel.connect(WhatsAppConfig(phone_number_id="1", access_token="EAAG")).close()


def test_the_readme_configuration_passes_tidings_check_and_plugins_lists_the_channel(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[3] / "plugins" / "whatsapp" / "README.md").read_text(encoding="utf-8")
    config = tmp_path / "tidings.toml"
    config.write_text(re.findall(r"```toml\n(.*?)```", readme, re.S)[0], encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    checked = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(config)], capture_output=True,
                             text=True, timeout=120, env=environ, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().endswith(
        "ok (2 rules, 0 locations, channels: whatsapp, sms, triggers: status-change, pre-visit)")
    listed = subprocess.run([sys.executable, "-m", "tidings.cli", "plugins", "--json", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, check=True)
    [row] = [r for r in json.loads(listed.stdout) if r["name"] == "whatsapp"]
    assert (row["kind"], row["distribution"], row["state"]) == ("channel", "tidings-whatsapp", "enabled")
