"""The [channels.sms] table, structured by the core's one converter as `tidings check` does."""

from __future__ import annotations

from typing import Any

import pytest
from cattrs.errors import BaseValidationError

from tidings.converter import converter, problems_from
from tidings.testing import table_problems

from tidings_sms.config import SmsConfig


def problems(table: dict[str, Any]) -> list[str]:
    return table_problems(SmsConfig, table)


def test_an_empty_table_gives_the_twilio_defaults() -> None:
    config = converter.structure({}, SmsConfig)
    assert (config.provider, config.base_url, config.timeout) == ("twilio", "https://api.twilio.com", 10.0)
    assert config.body == {"to": "{to}", "from": "{sender}", "text": "{text}"}


def test_a_full_json_table_is_structured() -> None:
    config = converter.structure({
        "provider": "json", "url": "https://sms.example/v1/messages", "sender": "Salon Anna",
        "default_region": "PL", "timeout": 5, "headers": {"Authorization": "Bearer {auth_token}"},
        "body": {"to": "{to}", "text": "{text}", "meta": {"key": "{idempotency_key}"}, "flash": False},
        "success_statuses": [200, 202], "invalid_address_codes": ["E_NUMBER"],
    }, SmsConfig)
    assert config.success_statuses == (200, 202)
    assert config.invalid_address_codes == ("E_NUMBER",)
    assert config.timeout == 5.0


def test_an_unknown_key_is_reported_with_the_allowed_ones() -> None:
    [problem] = problems({"api_ur": "https://x"})
    assert problem.startswith("api_ur: unknown key 'api_ur' (allowed: ")
    assert "base_url" in problem


@pytest.mark.parametrize("sender", ["+48500600700", "48500600700", "8080", "Salon", "Salon Anna", "ABCDEFGHIJK"])
def test_a_phone_number_or_a_short_alphanumeric_id_is_a_valid_sender(sender: str) -> None:
    assert converter.structure({"sender": sender}, SmsConfig).sender == sender


def test_an_alphanumeric_sender_longer_than_11_characters_is_refused() -> None:
    [problem] = problems({"sender": "Salon Anna Nails"})
    assert problem.startswith("sender: 'Salon Anna Nails' is 16 characters long")
    assert "at most 11" in problem


@pytest.mark.parametrize("sender", ["Salon!", "Róża", "+48 500"])
def test_a_sender_with_other_characters_is_refused(sender: str) -> None:
    [problem] = problems({"sender": sender})
    assert problem.startswith(f"sender: {sender!r} is neither a phone number")


def test_an_unknown_provider_is_refused_with_the_choices() -> None:
    assert problems({"provider": "nexmo"}) == ["provider: 'nexmo' is not a known provider (choose one of: twilio, json)"]


@pytest.mark.parametrize("region", ["Poland", "pl", "XX"])
def test_a_default_region_must_be_an_iso_code(region: str) -> None:
    [problem] = problems({"default_region": region})
    assert problem.startswith(f"default_region: {region!r} is not a region code")


def test_a_timeout_must_be_positive() -> None:
    assert problems({"timeout": 0}) == ["timeout: 0 is not a positive number of seconds"]


def test_an_unknown_placeholder_in_the_body_is_refused_with_its_place() -> None:
    [problem] = problems({"body": {"to": "{to}", "msg": {"text": "{body}"}}})
    assert problem.startswith("body: unknown placeholder {body} in '{body}' at msg.text (allowed: {to}, {sender}")


def test_headers_may_only_use_the_secret_and_key_placeholders() -> None:
    [problem] = problems({"headers": {"X-To": "{to}"}})
    assert "unknown placeholder {to}" in problem


def test_a_non_success_status_is_refused() -> None:
    assert problems({"success_statuses": [200, 400]}) == ["success_statuses: 400 is not a success status: use 2xx codes, like [200, 201, 202]"]


def test_every_bad_value_is_reported_under_its_own_key() -> None:
    reported = problems({"provider": "sms-o-matic", "sender": "Salon Anna Nails", "timeout": -1})
    assert [p.partition(":")[0] for p in reported] == ["provider", "sender", "timeout"]


def test_a_bad_value_is_refused_when_the_settings_are_built_in_python_too() -> None:
    with pytest.raises(BaseValidationError) as caught:
        SmsConfig(sender="Salon Anna Nails")
    assert [str(p) for p in problems_from(caught.value)][0].startswith("sender: 'Salon Anna Nails' is 16 characters")


def test_the_auth_token_falls_back_to_the_environment() -> None:
    assert SmsConfig().secret({"TIDINGS_SMS_AUTH_TOKEN": "from-env"}) == "from-env"
    assert SmsConfig(auth_token="from-file").secret({"TIDINGS_SMS_AUTH_TOKEN": "from-env"}) == "from-file"
    assert SmsConfig().secret({}) == ""


def test_the_auth_token_is_not_shown_in_the_settings_repr() -> None:
    assert "hunter2" not in repr(SmsConfig(auth_token="hunter2"))
