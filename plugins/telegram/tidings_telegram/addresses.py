"""The Telegram address of a contact: the chat id the host keeps in ``addresses.telegram``.

The host learns it from the ``/start`` message the client sends the bot (see `tidings_telegram.start`):
the message's ``chat.id``, an integer (a person's chat is positive; a group's negative, a
supergroup's or channel's ``-100…``). A public channel or supergroup may be named by its
``@username`` instead. Anything else is no address.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tidings.plugin_types import NoAddress

if TYPE_CHECKING:
    from tidings.models import Contact

CHANNEL = "telegram"

# why a contact has no Telegram address: the detail of `invalid_address`
NO_CHAT = "no_chat_id"              # no addresses.telegram: the client never linked a chat
NOT_A_CHAT = "not_a_chat_id"        # addresses.telegram is neither a chat id nor an @username

_CHAT_ID = re.compile(r"-?[1-9][0-9]{0,19}")
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


def parse(value: str | None) -> str | NoAddress:
    """`value` as a ``chat_id`` (``"123456789"``, ``"-1001234567890"``, ``"@salon_news"``), or why it is not one."""
    text = (value or "").strip()
    if not text:
        return NoAddress(NO_CHAT)
    if _CHAT_ID.fullmatch(text) or _USERNAME.fullmatch(text):
        return text
    return NoAddress(NOT_A_CHAT)


def telegram_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: the contact's chat id, or `NoAddress` saying why there is none."""
    found = parse(contact.addresses.get(CHANNEL))
    return (found,) if isinstance(found, str) else found


def chat_id(address: str) -> int | str:
    """The ``chat_id`` as the Bot API takes it: an integer, or the ``@username`` string."""
    return int(address) if _CHAT_ID.fullmatch(address) else address
