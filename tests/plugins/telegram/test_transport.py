"""The Bot API transport against a local Bot API: what the chat shows, and what each refusal becomes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import pytest

from tidings import RenderedMessage
from tidings.errors import PermanentDeliveryError, TransientDeliveryError

from tidings_telegram.config import TelegramConfig
from tidings_telegram.transport import TelegramTransport, classify

from .conftest import BLOCKED, CHAT, TOKEN, BotApi, bot_error

Build = Callable[..., RenderedMessage]


@pytest.fixture
def transport(telegram_config: TelegramConfig) -> Iterator[TelegramTransport]:
    sender = TelegramTransport.connect(telegram_config, token=TOKEN)
    yield sender
    sender.close()


def test_the_chat_shows_the_title_in_bold_and_user_data_exactly_as_typed(
        transport: TelegramTransport, bot_api: BotApi, telegram_message: Build) -> None:
    # a name and a service with markup in them: Telegram's HTML reading must show them as typed
    parts = {"title": "Reminder: Tom & <Jerry>", "text": "Hi <script>Ola</script> & co,\nsee you at 14:00 <b>sharp</b>."}
    receipt = transport.send(telegram_message(parts), idempotency_key="k")
    [delivered] = bot_api.delivered
    assert delivered.chat_id == CHAT and delivered.bold == ("Reminder: Tom & <Jerry>",)
    assert delivered.text == "Reminder: Tom & <Jerry>\n\nHi <script>Ola</script> & co,\nsee you at 14:00 <b>sharp</b>."
    assert delivered.body["link_preview_options"] == {"is_disabled": True}
    assert receipt.provider_id == "101"


def test_plain_mode_and_previews_follow_the_settings(
        telegram_config: TelegramConfig, bot_api: BotApi, telegram_message: Build) -> None:
    sender = TelegramTransport.connect(attrs.evolve(telegram_config, bold_title=False, link_preview=True), token=TOKEN)
    try:
        sender.send(telegram_message({"title": "Visit", "text": "Hi <Ola>"}), idempotency_key="k")
    finally:
        sender.close()
    [delivered] = bot_api.delivered
    assert delivered.text == "Visit\n\nHi <Ola>" and delivered.bold == ()
    assert "parse_mode" not in delivered.body and "link_preview_options" not in delivered.body


def test_a_public_channel_is_addressed_by_its_username(
        transport: TelegramTransport, bot_api: BotApi, telegram_message: Build) -> None:
    transport.send(telegram_message({"text": "News"}, to="@salon_news"), idempotency_key="k")
    assert [d.chat_id for d in bot_api.delivered] == ["@salon_news"]


def test_messages_share_one_connection(transport: TelegramTransport, bot_api: BotApi, telegram_message: Build) -> None:
    for n in range(3):
        transport.send(telegram_message({"text": f"Message {n}"}), idempotency_key=f"k-{n}")
    assert len(bot_api.delivered) == 3 and len(bot_api.connections()) == 1


def test_a_client_who_blocked_the_bot_is_a_permanent_blocked(
        transport: TelegramTransport, telegram_message: Build) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(telegram_message({"text": "Hi"}, to=str(BLOCKED)), idempotency_key="k")
    assert refused.value.reason == "blocked"
    assert refused.value.details == {"provider": "telegram", "status": 403, "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user"}


def test_an_unknown_chat_is_a_permanent_invalid_address(transport: TelegramTransport, telegram_message: Build) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        transport.send(telegram_message({"text": "Hi"}, to="42"), idempotency_key="k")
    assert refused.value.reason == "invalid_address"


def test_flood_control_is_transient_with_telegrams_retry_after(
        transport: TelegramTransport, bot_api: BotApi, telegram_message: Build) -> None:
    bot_api.then(429, bot_error(429, "Too Many Requests: retry after 7", retry_after=7))
    with pytest.raises(TransientDeliveryError) as deferred:
        transport.send(telegram_message({"text": "Hi"}), idempotency_key="k")
    assert deferred.value.reason == "rate_limited" and deferred.value.retry_after == 7.0
    assert deferred.value.details["retry_after"] == 7.0
    assert bot_api.delivered == []


def test_a_wrong_token_is_provider_auth_and_no_error_shows_the_token(
        telegram_config: TelegramConfig, telegram_message: Build) -> None:
    wrong = "987:AAwrong-token"
    sender = TelegramTransport.connect(telegram_config, token=wrong)
    try:
        with pytest.raises(PermanentDeliveryError) as refused:
            sender.send(telegram_message({"text": "Hi"}), idempotency_key="k")
    finally:
        sender.close()
    assert refused.value.reason == "provider_auth" and "$TIDINGS_TELEGRAM_BOT_TOKEN" in str(refused.value)
    assert wrong not in str(refused.value) and wrong not in repr(sender)


def test_a_server_error_a_hang_and_a_closed_port_are_transient_without_the_token(
        transport: TelegramTransport, telegram_config: TelegramConfig, bot_api: BotApi, telegram_message: Build) -> None:
    bot_api.then(502, "<html>Bad Gateway</html>")
    with pytest.raises(TransientDeliveryError) as failed:
        transport.send(telegram_message({"text": "Hi"}), idempotency_key="k")
    assert failed.value.reason == "provider_unavailable"
    bot_api.then(200, hang=True)   # longer than the 0.5 s timeout
    with pytest.raises(TransientDeliveryError) as hung:
        transport.send(telegram_message({"text": "Hi"}), idempotency_key="k")
    assert hung.value.reason == "timeout"
    closed = TelegramTransport.connect(attrs.evolve(telegram_config, base_url="http://127.0.0.1:9"), token=TOKEN)
    try:
        with pytest.raises(TransientDeliveryError) as refused:
            closed.send(telegram_message({"text": "Hi"}), idempotency_key="k")
    finally:
        closed.close()
    assert refused.value.reason == "connection_failed"
    assert all(TOKEN not in str(e.value) for e in (failed, hung, refused))


@pytest.mark.parametrize(("status", "answer", "reason"), [
    (403, bot_error(403, "Forbidden: user is deactivated"), "deactivated"),
    (403, bot_error(403, "Forbidden: bot can't initiate conversation with a user"), "not_started"),
    (403, bot_error(403, "Forbidden: bot was kicked from the group chat"), "blocked"),
    (403, bot_error(403, "Forbidden: something new"), "chat_forbidden"),
    (400, bot_error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=-1001234567890), "chat_migrated"),
    (400, bot_error(400, "Bad Request: message is too long"), "message_too_long"),
    (400, bot_error(400, "Bad Request: can't parse entities: Unsupported start tag \"x\""), "provider_rejected"),
    (404, bot_error(404, "Not Found"), "provider_auth"),
])
def test_each_refusal_is_permanent_with_its_reason(status: int, answer: dict[str, object], reason: str) -> None:
    failure = classify(status, answer)
    assert not failure.transient and failure.reason == reason


def test_a_429_without_parameters_takes_the_retry_after_header() -> None:
    assert classify(429, {}, "3").retry_after == 3.0
    assert classify(429, bot_error(429, "Too Many Requests")).retry_after is None
