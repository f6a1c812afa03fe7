"""The Bot API transport: ``POST {base_url}/bot<token>/sendMessage`` with a JSON body.

The bot token is part of every URL, so no URL is ever logged or put in an error: a failure names
the method and what Telegram said. Telegram answers ``{"ok": false, "error_code": ...,
"description": ..., "parameters": {...}}``; its descriptions are the only place that tells a
blocked bot from a deleted account, so they are read, and anything not recognised falls back to
the status (`tidings.channel_kit.http_failure`).

The Bot API takes no idempotency key and echoes nothing of ours back, so nothing can correlate
an attempt: a worker that dies after Telegram accepted a message and before tidings recorded it
sent leaves the message to be dispatched again, and the chat gets it twice (see the README).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import define

from tidings.channel_kit import HttpFailure, call_provider, http_failure, json_object, refusal, retry_after_seconds
from tidings.httppool import HttpPool
from tidings.logging import get_logger
from tidings.plugin_types import Receipt
from tidings_telegram.addresses import chat_id
from tidings_telegram.text import compose

if TYPE_CHECKING:
    from tidings.plugin_types import RenderedMessage
    from tidings_telegram.config import TelegramConfig

log = get_logger(__name__)

USER_AGENT = "tidings-telegram/0.1.0"

# what a refusal's description says, lower-cased -> the reason; the first match wins
DESCRIPTIONS = (
    ("bot was blocked by the user", "blocked"),
    ("user is deactivated", "deactivated"),                       # the account was deleted
    ("bot can't initiate conversation", "not_started"),           # the client never pressed Start
    ("bot was kicked", "blocked"),
    ("bot is not a member", "blocked"),
    ("chat not found", "invalid_address"),
    ("peer_id_invalid", "invalid_address"),
    ("upgraded to a supergroup", "chat_migrated"),                # parameters.migrate_to_chat_id is the new id
    ("message is too long", "message_too_long"),
)


def classify(status: int, answer: Mapping[str, Any], retry_after: str | None = None) -> HttpFailure:
    """What a refused ``sendMessage`` means (see the module docstring)."""
    found = answer.get("parameters")
    parameters: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    code = answer.get("error_code") if isinstance(answer.get("error_code"), int) else status
    if code == 429:
        wait = parameters.get("retry_after")
        seconds = float(wait) if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait >= 0 \
            else retry_after_seconds(retry_after)
        return HttpFailure(status=status, reason="rate_limited", retry_after=seconds)
    description = str(answer.get("description", "")).lower()
    for words, reason in DESCRIPTIONS:
        if words in description:
            return HttpFailure(status=status, reason=reason)
    if "migrate_to_chat_id" in parameters:
        return HttpFailure(status=status, reason="chat_migrated")
    if code in (401, 404):
        return HttpFailure(status=status, reason="provider_auth")   # a wrong token is 401, a malformed one 404
    if code == 403:
        return HttpFailure(status=status, reason="chat_forbidden")
    return http_failure(status, retry_after)


@define
class TelegramTransport:
    """Sends Telegram messages through the Bot API, over a pool of keep-alive connections until `close`."""

    config: TelegramConfig
    client: HttpPool
    token: str

    @classmethod
    def connect(cls, config: TelegramConfig, *, token: str) -> TelegramTransport:
        client = HttpPool(timeout=config.timeout, base_url=config.base_url.rstrip("/"), user_agent=USER_AGENT,
                          headers={"Accept": "application/json"})
        return cls(config=config, client=client, token=token)

    def __repr__(self) -> str:
        return f"TelegramTransport(base_url={self.config.base_url!r})"   # never the token

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        """Send one message to the chat ``message.to``; the receipt's id is Telegram's ``message_id``.

        Raises:
            TransientDeliveryError: timeouts, connection failures, 5xx, and 429 with Telegram's
                ``parameters.retry_after`` as ``retry_after``.
            PermanentDeliveryError: ``blocked`` (the client blocked the bot), ``deactivated``,
                ``not_started``, ``invalid_address`` (chat not found), ``chat_migrated``,
                ``message_too_long``, ``chat_forbidden``, ``provider_auth`` (401/404: the token) or
                ``provider_rejected``.
        """
        body: dict[str, Any] = {"chat_id": chat_id(message.to), **compose(message.parts, bold_title=self.config.bold_title)}
        if not self.config.link_preview:
            body["link_preview_options"] = {"is_disabled": True}
        fields = {"rule": message.rule, "subject": message.subject, "channel": "telegram", "to": message.to}
        response = call_provider(self.client, "POST", f"/bot{self.token}/sendMessage", json=body, provider="telegram",
                                 name="the Telegram Bot API", fields=fields, action="sendMessage", scrub=self._scrub,
                                 hint="base_url and bot_token in [channels.telegram]")
        answer = json_object(response)
        result = answer.get("result")
        if 200 <= response.status_code < 300 and answer.get("ok") is True and isinstance(result, Mapping):
            message_id = result.get("message_id")
            log.debug("telegram_accepted", **fields, provider_id=message_id)
            return Receipt(provider_id=str(message_id) if message_id is not None else None)
        failure = classify(response.status_code, answer, response.headers.get("Retry-After"))
        details: dict[str, Any] = {"provider": "telegram", "status": response.status_code}
        for key in ("error_code", "description"):
            if key in answer:
                details[key] = answer[key]
        parameters = answer.get("parameters")
        if isinstance(parameters, Mapping) and "migrate_to_chat_id" in parameters:
            details["migrate_to_chat_id"] = parameters["migrate_to_chat_id"]
        raise refusal(failure, provider="telegram", name="the Telegram Bot API", fields=fields, details=details,
                      said=f": {answer['description']}" if answer.get("description") else "",
                      fix="bot_token in [channels.telegram] or $TIDINGS_TELEGRAM_BOT_TOKEN",
                      logged={"retry_after": failure.retry_after} if failure.transient else None)

    def _scrub(self, error: Exception) -> str:
        """An exception's message without the bot token, which the request's URL carries."""
        text = str(error)
        return text.replace(self.token, "<bot_token>") if self.token else text

    def close(self) -> None:
        """Close the pooled connections."""
        self.client.close()
