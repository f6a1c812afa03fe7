"""The ``[channels.webhook]`` table: every bad value named at its key, the secret never quoted."""

from __future__ import annotations

import pytest

from tidings.testing import settings_from, table_problems

import tidings_webhook.plugin
from tidings_webhook.config import WebhookConfig

from .conftest import SECRET


def test_the_table_is_structured_with_its_defaults() -> None:
    settings = settings_from(tidings_webhook.plugin, "webhook", {"url": "https://crm.example/hooks"})
    assert (settings.url, settings.event_type, settings.timeout) == ("https://crm.example/hooks", "tidings.message", 15.0)


@pytest.mark.parametrize(("table", "problem"), [
    ({"url": "crm.example/hooks"}, "url: 'crm.example/hooks' is not an http(s) URL"),
    ({"event_type": "tidings message"}, "event_type: 'tidings message' is not an event type"),
    ({"event_type": "tidings."}, "event_type: 'tidings.' is not an event type"),
    ({"timeout": 0}, "timeout: 0 is not a positive number of seconds"),
])
def test_a_bad_value_is_reported_at_its_key_with_the_way_out(table: dict[str, object], problem: str) -> None:
    [found] = table_problems(WebhookConfig, table)
    assert found.startswith(problem), found


@pytest.mark.parametrize(("secret", "problem"), [
    ("s3cr3t-s3cr3t-s3cr3t-s3cr3t", "secret: is not a Standard Webhooks secret: it starts with 'whsec_'"),
    ("whsec_s3cr3t!!", "secret: is not base64 after 'whsec_'"),
    ("whsec_czNjcjN0", "secret: decodes to 6 bytes; a Standard Webhooks secret has 24 to 64"),
])
def test_a_malformed_secret_is_reported_without_quoting_it(secret: str, problem: str) -> None:
    [found] = table_problems(WebhookConfig, {"secret": secret})
    assert found.startswith(problem), found
    assert secret.removeprefix("whsec_") not in found


def test_the_secret_comes_from_the_environment_when_the_table_has_none_and_never_shows() -> None:
    assert WebhookConfig().signing_secret({"TIDINGS_WEBHOOK_SECRET": SECRET}) == SECRET
    own = WebhookConfig(secret=SECRET)
    assert own.signing_secret({"TIDINGS_WEBHOOK_SECRET": "whsec_other"}) == SECRET
    assert SECRET not in repr(own) and SECRET[6:] not in repr(own)
