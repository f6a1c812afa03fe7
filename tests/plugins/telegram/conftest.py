"""A real local Telegram Bot API for the Telegram channel's tests: the kit's local HTTP service.

`BotApi` speaks ``sendMessage`` as the Bot API documents it: ``POST /bot<token>/sendMessage`` with a
JSON body, answered ``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code": ...,
"description": ..., "parameters": ...}``. It knows a few chats (`chats`): a message to another one
is ``400 Bad Request: chat not found``, to a chat whose person blocked the bot ``403 Forbidden: bot
was blocked by the user``. With ``parse_mode: "HTML"`` it reads the text with the standard
library's HTML parser, as Telegram reads it: the tags Telegram supports become entities, an
unsupported tag is ``400 Bad Request: can't parse entities``, and entities are decoded, so what a
test reads (`Delivered.text`, `Delivered.bold`) is what the client would see.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from attrs import frozen

from tidings import Contact, RenderedMessage
from tidings.testing import LocalHttpService, Reply, Request

from tidings_telegram.config import TelegramConfig

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT = 987654321
BLOCKED = 111222333
SUPPORTED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
                  "tg-spoiler", "blockquote", "tg-emoji"}


def bot_error(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    """The Bot API's answer to a failed request."""
    return {"ok": False, "error_code": code, "description": description, **({"parameters": parameters} if parameters else {})}


class _Entities(HTMLParser):
    """Telegram's reading of an HTML-mode text: the visible text, the bold spans, and any unsupported tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.bold: list[str] = []
        self.open_bold: int | None = None
        self.unsupported: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SUPPORTED_TAGS:
            self.unsupported = self.unsupported or tag
        elif tag in ("b", "strong"):
            self.open_bold = len(self.text)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("b", "strong") and self.open_bold is not None:
            self.bold.append(self.text[self.open_bold:])
            self.open_bold = None

    def handle_data(self, data: str) -> None:
        self.text += data


@frozen
class Delivered:
    """A message the chat got, as its person sees it."""

    chat_id: int | str
    text: str
    bold: tuple[str, ...]
    body: dict[str, Any]


class BotApi(LocalHttpService):
    """The Bot API of the bot with `TOKEN`; chat `CHAT` is open, `BLOCKED` blocked the bot."""

    def __init__(self) -> None:
        super().__init__()
        self.chats: dict[int | str, str] = {CHAT: "active", BLOCKED: "blocked", "@salon_news": "active"}
        self.delivered: list[Delivered] = []

    def respond(self, request: Request) -> Reply:
        prefix = f"/bot{TOKEN}/"
        if not request.path.startswith("/bot"):
            return Reply(404, bot_error(404, "Not Found"))
        if not request.path.startswith(prefix):
            return Reply(401, bot_error(401, "Unauthorized"))
        if request.path[len(prefix):] != "sendMessage" or request.method != "POST":
            return Reply(404, bot_error(404, "Not Found: method not found"))
        body = request.json
        chat = body.get("chat_id")
        state = self.chats.get(chat)
        if state is None:
            return Reply(400, bot_error(400, "Bad Request: chat not found"))
        if state == "blocked":
            return Reply(403, bot_error(403, "Forbidden: bot was blocked by the user"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return Reply(400, bot_error(400, "Bad Request: message text is empty"))
        bold: list[str] = []
        if body.get("parse_mode") == "HTML":
            reading = _Entities()
            reading.feed(text)
            reading.close()
            if reading.unsupported:
                return Reply(400, bot_error(400, f"Bad Request: can't parse entities: Unsupported start tag "
                                                 f"\"{reading.unsupported}\""))
            text, bold = reading.text, reading.bold
        elif body.get("parse_mode") is not None:
            return Reply(400, bot_error(400, "Bad Request: unsupported parse_mode"))
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return Reply(400, bot_error(400, "Bad Request: message is too long"))
        self.delivered.append(Delivered(chat_id=chat, text=text, bold=tuple(bold), body=body))
        entities = [{"type": "bold", "offset": text.index(b), "length": len(b)} for b in bold]
        return Reply(200, {"ok": True, "result": {"message_id": len(self.delivered) + 100, "date": 1772442000,
                                                  "chat": {"id": chat, "type": "private"}, "text": text,
                                                  **({"entities": entities} if entities else {})}})


@pytest.fixture
def bot_api(start_service: Callable[[BotApi], BotApi]) -> BotApi:
    """A running local Bot API."""
    return start_service(BotApi())


@pytest.fixture
def telegram_config(bot_api: BotApi) -> TelegramConfig:
    """Settings reaching `bot_api`, with a short timeout."""
    return TelegramConfig(base_url=bot_api.url, bot_token=TOKEN, timeout=0.5)


@pytest.fixture
def telegram_message() -> Callable[..., RenderedMessage]:
    """Build a rendered Telegram message: ``telegram_message({"title": ..., "text": ...}, to="987654321")``."""
    def build(parts: dict[str, str], *, to: str = str(CHAT)) -> RenderedMessage:
        return RenderedMessage(channel="telegram", to=to, parts=parts, rule="reminder-24h", subject="a-1",
                               recipient=Contact(id="c-1", addresses={"telegram": to}), locale="en", addresses=(to,))
    return build
