"""The text of a Telegram message from the rendered parts: the title in bold (HTML parse mode), then the text.

Telegram's HTML parse mode reads ``<``, ``>`` and ``&`` as markup, so every one of them in the
rendered parts (a client's name, a service, the deployer's own words) is written as an entity and
shows as typed: nothing a host sends can add a tag or a link. Quotes need no escaping outside a
tag's attributes, and the parts are never put inside one. With ``bold_title = false`` the message
is plain text (no ``parse_mode``), the title on a line of its own.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any


def escape(text: str) -> str:
    """`text` for Telegram's HTML parse mode: ``&``, ``<`` and ``>`` as entities."""
    return html.escape(text, quote=False)


def compose(parts: Mapping[str, str], *, bold_title: bool) -> dict[str, Any]:
    """The ``text`` (and ``parse_mode``) fields of a ``sendMessage`` request for these parts."""
    title, body = parts.get("title", "").strip(), parts.get("text", "").strip()
    if not bold_title:
        return {"text": "\n\n".join(p for p in (title, body) if p)}
    pieces = ([f"<b>{escape(title)}</b>"] if title else []) + ([escape(body)] if body else [])
    return {"text": "\n\n".join(pieces), "parse_mode": "HTML"}
