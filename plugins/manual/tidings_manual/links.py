"""One-tap links: a queued message opened ready to send in WhatsApp, the messaging app or the mail app.

Each link carries the whole text, percent-encoded for its scheme: ``https://wa.me/<digits>?text=…``
(WhatsApp's click-to-chat: the number in international form without ``+``), ``sms:<phone>?body=…``
(RFC 5724) and ``mailto:<address>?subject=…&body=…`` (RFC 6068: spaces as ``%20``, line breaks as
``%0D%0A``). Nothing is left unencoded that a scheme would read as its own syntax (``&``, ``#``,
``?``, ``+``, ``=``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from tidings_manual.addresses import is_phone
from tidings_manual.config import LINKS


def _encoded(text: str) -> str:
    return quote(text, safe="")


def _crlf(text: str) -> str:
    # RFC 6068 §5: line breaks in a mailto body are CRLF
    return "\r\n".join(text.splitlines())


def one_tap_links(addresses: Sequence[str], *, text: str, title: str | None = None,
                  offered: Iterable[str] = LINKS) -> dict[str, str]:
    """The links for a message to `addresses` (E.164 phones and e-mail addresses), by kind, in `offered`'s order.

    Args:
        text: the message as staff will send it.
        title: the e-mail's subject (a mailto link without one has none).
        offered: which of ``whatsapp``, ``sms`` and ``email`` to make.
    """
    phones = [a for a in addresses if is_phone(a)]
    emails = [a for a in addresses if not is_phone(a)]
    links: dict[str, str] = {}
    for kind in offered:
        if kind == "whatsapp" and phones:
            links[kind] = f"https://wa.me/{phones[0].removeprefix('+')}?text={_encoded(text)}"
        elif kind == "sms" and phones:
            links[kind] = f"sms:{phones[0]}?body={_encoded(text)}"
        elif kind == "email" and emails:
            query = ([f"subject={_encoded(title)}"] if title else []) + [f"body={_encoded(_crlf(text))}"]
            links[kind] = f"mailto:{quote(emails[0], safe='@')}?{'&'.join(query)}"
    return links
