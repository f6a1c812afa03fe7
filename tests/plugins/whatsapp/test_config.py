"""The ``[channels.whatsapp]`` table: every bad value named at its key, templates checked like Meta names them."""

from __future__ import annotations

import pytest

from tidings.testing import settings_from, table_problems

import tidings_whatsapp.plugin
from tidings_whatsapp.config import WhatsAppConfig, WhatsAppTemplate


def test_the_rules_templates_and_the_default_are_structured_from_the_table() -> None:
    settings = settings_from(tidings_whatsapp.plugin, "whatsapp", {
        "phone_number_id": "106540352242922",
        "templates": {"reminder-24h": {"name": "visit_reminder", "language": "pl"},
                      "review-request": {"name": "review_request", "parameters": 2}},
        "default_template": {"name": "tidings_message"}, "languages": {"en": "en_US"}})
    assert settings.template_for("reminder-24h") == WhatsAppTemplate(name="visit_reminder", language="pl")
    assert settings.template_for("review-request") == WhatsAppTemplate(name="review_request", parameters=2)
    assert settings.template_for("nails-repeat") == WhatsAppTemplate(name="tidings_message")
    assert WhatsAppConfig().template_for("nails-repeat") is None


@pytest.mark.parametrize(("table", "problem"), [
    ({"api_version": "23.0"}, "api_version: '23.0' is not a Graph API version: use one like 'v23.0'"),
    ({"phone_number_id": "+48 600 100 200"}, "phone_number_id: '+48 600 100 200' is not a phone number id"),
    ({"default_region": "pl"}, "default_region: 'pl' is not a region code"),
    ({"languages": {"en": "english"}}, "languages: 'english' (for 'en') is not a WhatsApp language code"),
    ({"timeout": 0}, "timeout: 0 is not a positive number of seconds"),
    ({"base_url": "graph.facebook.com"}, "base_url: 'graph.facebook.com' is not an http(s) URL"),
    ({"templates": {"reminder-24h": {"name": "Visit Reminder"}}},
     "templates['reminder-24h'].name: 'Visit Reminder' is not a WhatsApp template name"),
    ({"templates": {"reminder-24h": {"name": "visit_reminder", "langauge": "pl"}}},
     "templates['reminder-24h'].langauge: unknown key 'langauge' (allowed: language, name, parameters)"),
    ({"default_template": {"name": "x", "parameters": -1}},
     "default_template.parameters: -1 is not a number of body parameters: use 0 to 100"),
])
def test_a_bad_value_is_reported_at_its_key_with_the_way_out(table: dict[str, object], problem: str) -> None:
    [found] = table_problems(WhatsAppConfig, table)
    assert found.startswith(problem), found


def test_the_access_token_comes_from_the_environment_when_the_table_has_none() -> None:
    assert WhatsAppConfig().secret({"TIDINGS_WHATSAPP_ACCESS_TOKEN": "EAAG"}) == "EAAG"
    assert WhatsAppConfig(access_token="own").secret({"TIDINGS_WHATSAPP_ACCESS_TOKEN": "EAAG"}) == "own"
    assert "own" not in repr(WhatsAppConfig(access_token="own"))
