"""What channel plugins share: secrets from the table or the environment, timeouts, required settings, HTTP failures."""

from __future__ import annotations

import pytest
from attrs import frozen

from tidings.channel_kit import EnvSecret, check_timeout, http_failure, missing, retry_after_seconds
from tidings.errors import PermanentDeliveryError, Problem, TransientDeliveryError

TOKEN = EnvSecret("channels.sms", "auth_token", "TIDINGS_SMS_AUTH_TOKEN")


def test_a_secret_in_the_table_wins_over_the_environment() -> None:
    assert TOKEN.source("from-table", {"TIDINGS_SMS_AUTH_TOKEN": "from-env"}) == ("from-table", "channels.sms.auth_token")


def test_a_secret_missing_from_the_table_comes_from_its_variable_named_as_its_place() -> None:
    assert TOKEN.source("", {"TIDINGS_SMS_AUTH_TOKEN": "from-env"}) == ("from-env", "$TIDINGS_SMS_AUTH_TOKEN")
    assert TOKEN.value("", {"TIDINGS_SMS_AUTH_TOKEN": "from-env"}) == "from-env"


@pytest.mark.parametrize("environ", [{}, {"TIDINGS_SMS_AUTH_TOKEN": ""}, {"TIDINGS_SMS_AUTH_TOKEN": "  \n"}])
def test_a_secret_in_neither_place_is_empty_at_its_table_key(environ: dict[str, str]) -> None:
    assert TOKEN.source("", environ) == ("", "channels.sms.auth_token")


def test_a_secret_reads_this_processs_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIDINGS_SMS_AUTH_TOKEN", "exported")
    assert TOKEN.value("") == "exported"


def test_an_unset_secret_is_a_warning_saying_who_needs_it_and_where_to_put_it() -> None:
    assert TOKEN.unset("is required by the twilio provider") == Problem(
        "channels.sms.auth_token", "is required by the twilio provider and is not set here: put $TIDINGS_SMS_AUTH_TOKEN "
        "in the worker's environment (or auth_token in this table)", warning=True)


@pytest.mark.parametrize(("value", "problem"), [
    (0.0, "0 is not a positive number of seconds"),      # as the deployer wrote it: timeout = 0
    (-2.0, "-2 is not a positive number of seconds"),
    (-0.5, "-0.5 is not a positive number of seconds"),
    (float("nan"), "nan is not a positive number of seconds"),
    (0.25, None),
    (30.0, None),
])
def test_a_timeout_is_a_positive_number_of_seconds(value: float, problem: str | None) -> None:
    assert check_timeout(value) == problem


@frozen
class Settings:
    host: str = ""
    sender: str = ""
    url: str = "https://sms.example"


def test_every_required_setting_left_empty_or_blank_is_a_problem_saying_why_in_order() -> None:
    found = list(missing(Settings(sender="   "), "channels.x", {"host": "is required: the server", "url": "is required",
                                                              "sender": "is required: the From mailbox"}))
    assert found == [Problem("channels.x.host", "is required: the server"),
                     Problem("channels.x.sender", "is required: the From mailbox")]


@pytest.mark.parametrize(("status", "reason", "transient"), [
    (429, "rate_limited", True),
    (408, "provider_unavailable", True), (425, "provider_unavailable", True), (500, "provider_unavailable", True),
    (502, "provider_unavailable", True), (503, "provider_unavailable", True), (504, "provider_unavailable", True),
    (401, "provider_auth", False), (403, "provider_auth", False),
    (400, "provider_rejected", False), (404, "provider_rejected", False), (422, "provider_rejected", False),
])
def test_a_status_is_read_alike_for_every_provider(status: int, reason: str, transient: bool) -> None:
    failure = http_failure(status)
    assert (failure.status, failure.reason, failure.transient) == (status, reason, transient)


def test_a_transient_failure_carries_the_seconds_its_retry_after_asks_for() -> None:
    error = http_failure(503, "120").error("the provider answered HTTP 503", details={"provider": "json"})
    assert isinstance(error, TransientDeliveryError)
    assert (error.reason, error.retry_after) == ("provider_unavailable", 120.0)
    assert error.details == {"provider": "json", "retry_after": 120.0}
    assert str(error) == "the provider answered HTTP 503"


def test_a_transient_failure_without_retry_after_leaves_the_wait_to_the_core() -> None:
    error = http_failure(429).error("slow down", details={"status": 429})
    assert isinstance(error, TransientDeliveryError)
    assert error.retry_after is None and error.details == {"status": 429}


def test_a_refusal_is_permanent_and_ignores_retry_after() -> None:
    failure = http_failure(401, "60")
    error = failure.error("bad credentials", details={"status": 401})
    assert failure.retry_after is None
    assert isinstance(error, PermanentDeliveryError) and not isinstance(error, TransientDeliveryError)
    assert (error.reason, error.details) == ("provider_auth", {"status": 401})


@pytest.mark.parametrize(("header", "seconds"), [
    ("7", 7.0), ("0", 0.0), ("1.5", 1.5),
    (None, None), ("Wed, 21 Oct 2026 07:28:00 GMT", None),   # an HTTP date: the core's own backoff applies
    ("-5", None), ("nan", None), ("inf", None), ("soon", None),
])
def test_retry_after_is_read_as_seconds_and_anything_else_is_none(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds
