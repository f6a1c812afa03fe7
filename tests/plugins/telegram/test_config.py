"""The ``[channels.telegram]`` table: every bad value named at its key, secrets never quoted."""

from __future__ import annotations

import pytest

from tidings.durations import Duration
from tidings.testing import settings_from, table_problems

import tidings_telegram.plugin
from tidings_telegram.config import TelegramConfig


def test_the_table_is_structured_with_its_link_lifetime() -> None:
    settings = settings_from(tidings_telegram.plugin, "telegram", {"bot_username": "@SalonAnnaBot", "start_ttl": "14d"})
    assert settings.start_ttl == Duration(14, "d") and settings.username == "SalonAnnaBot"


@pytest.mark.parametrize(("table", "problem"), [
    ({"bot_username": "salon"}, "bot_username: 'salon' is not a bot's username"),
    ({"bot_username": "SalonAnna"}, "bot_username: 'SalonAnna' is not a bot's username"),   # bots' names end in bot
    ({"start_ttl": "0d"}, "start_ttl: '0d' is not a time a /start link can be valid for"),
    ({"start_ttl": "2000d"}, "start_ttl: '2000d' is not a time a /start link can be valid for"),
    ({"timeout": -1}, "timeout: -1 is not a positive number of seconds"),
    ({"base_url": "api.telegram.org"}, "base_url: 'api.telegram.org' is not an http(s) URL"),
    ({"bold_title": "yes"}, "bold_title: 'yes' is not true or false"),
])
def test_a_bad_value_is_reported_at_its_key_with_the_way_out(table: dict[str, object], problem: str) -> None:
    [found] = table_problems(TelegramConfig, table)
    assert found.startswith(problem), found


def test_a_malformed_token_is_reported_without_quoting_it() -> None:
    [found] = table_problems(TelegramConfig, {"bot_token": "123/../getMe"})
    assert found.startswith("bot_token: is not a bot token") and "123/../getMe" not in found


def test_the_secrets_come_from_the_environment_when_the_table_has_none_and_never_show() -> None:
    environ = {"TIDINGS_TELEGRAM_BOT_TOKEN": "1:env", "TIDINGS_TELEGRAM_START_SECRET": "e" * 32}
    assert (TelegramConfig().token(environ), TelegramConfig().secret(environ)) == ("1:env", "e" * 32)
    own = TelegramConfig(bot_token="1:own", start_secret="o" * 32)
    assert (own.token(environ), own.secret(environ)) == ("1:own", "o" * 32)
    assert "1:own" not in repr(own) and "o" * 32 not in repr(own)
