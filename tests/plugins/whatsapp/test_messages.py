"""The Cloud API request of a message: free text inside the host's window, an approved template outside it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from tidings import RenderedMessage
from tidings.errors import PermanentDeliveryError

from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate
from tidings_whatsapp.messages import in_window, one_line, parameters, request

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
Build = Callable[..., RenderedMessage]

CONFIG = WhatsAppConfig(phone_number_id="1", templates={"reminder-24h": WhatsAppTemplate(name="visit_reminder", language="pl")})


def test_inside_the_window_the_text_goes_as_free_text(whatsapp_message: Build) -> None:
    message = whatsapp_message({"text": "Hi Ola,\nsee you tomorrow at 14:00."}, window_until="2026-03-02T12:00:00+01:00")
    body, info = request(message, CONFIG, now=NOW, idempotency_key="k-1")
    assert body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "48600100200",
                    "biz_opaque_callback_data": "k-1", "type": "text",
                    "text": {"preview_url": False, "body": "Hi Ola,\nsee you tomorrow at 14:00."}}
    assert info == {"type": "text"}


@pytest.mark.parametrize("until", [None, "2026-03-02T10:00:00+01:00", "2026-03-02T09:00:00+00:00"])
def test_without_an_open_window_the_rules_template_goes_with_the_text_as_its_parameter(
        whatsapp_message: Build, until: str | None) -> None:
    # no window, one that closed an hour ago, one that closes this very second
    message = whatsapp_message({"text": "Hi Ola,\nsee you   tomorrow\tat 14:00."}, window_until=until)
    body, info = request(message, CONFIG, now=NOW, idempotency_key="k-1")
    assert body["type"] == "template" and "text" not in body
    assert body["template"] == {"name": "visit_reminder", "language": {"policy": "deterministic", "code": "pl"},
                                "components": [{"type": "body", "parameters": [
                                    {"type": "text", "text": "Hi Ola, see you tomorrow at 14:00."}]}]}
    assert body["biz_opaque_callback_data"] == "k-1"
    assert info == {"type": "template", "template": "visit_reminder", "language": "pl"}


def test_a_window_the_host_wrote_wrong_counts_as_closed_and_is_logged(
        whatsapp_message: Build, caplog: pytest.LogCaptureFixture) -> None:
    message = whatsapp_message({"text": "Hi"}, window_until="2026-03-02T12:00:00")   # no UTC offset
    with caplog.at_level(logging.WARNING, logger="tidings.whatsapp"):
        assert not in_window(message, NOW)
    [entry] = [r.tidings for r in caplog.records if r.name.startswith("tidings.whatsapp")]   # type: ignore[attr-defined]
    assert entry["event"] == "whatsapp_window_unreadable" and "has no UTC offset" in entry["error"]
    assert (entry["rule"], entry["subject"], entry["channel"]) == ("reminder-24h", "a-1", "whatsapp")
    assert request(message, CONFIG, now=NOW, idempotency_key="k")[0]["type"] == "template"


def test_a_template_of_several_parameters_takes_one_per_line_of_the_text(whatsapp_message: Build) -> None:
    message = whatsapp_message({"text": "Ola\n\n  Tue 10 Mar,   14:00\nOld Town\tRynek 1\n"})
    template = WhatsAppTemplate(name="visit_details", language="en_US", parameters=3)
    assert parameters(message, template) == ["Ola", "Tue 10 Mar, 14:00", "Old Town Rynek 1"]


def test_a_template_of_several_parameters_goes_as_the_template_even_inside_the_window(whatsapp_message: Build) -> None:
    # its text is a list of values, not a message a client could read
    config = WhatsAppConfig(templates={"reminder-24h": WhatsAppTemplate(name="visit_details", parameters=2)})
    message = whatsapp_message({"text": "Ola\n14:00"}, window_until="2026-03-03T09:00:00+00:00")
    body, _ = request(message, config, now=NOW, idempotency_key="k")
    assert body["type"] == "template"
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == ["Ola", "14:00"]


@pytest.mark.parametrize(("text", "declared", "problem"), [
    ("Ola\nOld Town", 3, "it takes 3 parameters, one per line of the text, and the text has 2 non-empty lines"),
    ("Ola\n14:00\nOld Town\nRynek 1", 3, "the text has 4 non-empty lines"),
    ("  \n ", None, "the message's text rendered empty"),
])
def test_a_text_that_cannot_fill_the_template_fails_for_good_before_sending(
        whatsapp_message: Build, text: str, declared: int | None, problem: str) -> None:
    template = WhatsAppTemplate(name="visit_details", language="en_US", parameters=declared)
    with pytest.raises(PermanentDeliveryError) as refused:
        parameters(whatsapp_message({"text": text}), template)
    assert refused.value.reason == "template_params" and problem in str(refused.value)


def test_a_template_declared_without_parameters_gets_none(whatsapp_message: Build) -> None:
    config = WhatsAppConfig(default_template=WhatsAppTemplate(name="no_params", language="en_US", parameters=0))
    body, _ = request(whatsapp_message({"text": "Hi"}, rule="any"), config, now=NOW, idempotency_key="k")
    assert body["template"] == {"name": "no_params", "language": {"policy": "deterministic", "code": "en_US"}}


def test_a_rule_without_a_template_outside_the_window_fails_for_good_naming_the_setting(whatsapp_message: Build) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        request(whatsapp_message({"text": "Hi"}, rule="review-request"), CONFIG, now=NOW, idempotency_key="k")
    assert refused.value.reason == "no_template"
    assert "[channels.whatsapp.templates] review-request" in str(refused.value)


@pytest.mark.parametrize(("locale", "languages", "code"), [
    ("pl", {}, "pl"),
    ("pt-BR", {}, "pt_BR"),
    ("en", {"en": "en_US"}, "en_US"),
    ("en_GB", {"en": "en_US"}, "en_US"),
    ("en_GB", {"en": "en_US", "en_GB": "en_GB"}, "en_GB"),
])
def test_a_template_without_a_language_is_sent_in_the_recipients_locale_as_mapped(
        whatsapp_message: Build, locale: str, languages: dict[str, str], code: str) -> None:
    config = WhatsAppConfig(default_template=WhatsAppTemplate(name="tidings_message"), languages=languages)
    body, info = request(whatsapp_message({"text": "Hi"}, locale=locale), config, now=NOW, idempotency_key="k")
    assert body["template"]["language"]["code"] == code == info["language"]


def test_one_line_collapses_every_run_of_white_space() -> None:
    assert one_line(" a\nb\t\tc     d\u2028e ") == "a b c d e"
