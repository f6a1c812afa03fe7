"""Linking a client to a Telegram chat: a signed ``https://t.me/<bot>?start=<token>`` link, and its check.

A bot may message a person only after they opened a chat with it, and the bot learns their chat id
from the ``/start`` message that chat begins with. A deep link ``https://t.me/<bot>?start=<payload>``
opens the chat with a Start button that sends ``/start <payload>``. So tidings puts in the payload
who the client is, signed: the host's bot receives ``/start <token>``, calls `verify_start`, gets the
client id, and keeps the message's ``chat.id`` as that client's ``addresses.telegram``.

Telegram allows a payload of at most 64 characters of ``A-Z a-z 0-9 _ -``, which a
`tidings.links` token (about 150) does not fit, so the token has a compact format of its own: the
URL-safe base64 (no padding) of

    kind (1 byte) | expiry (4 bytes, Unix seconds, big-endian) | MAC (12 bytes) | client id

where the MAC is HMAC-SHA256, under the channel's ``start_secret``, of a label naming this
format followed by kind, expiry and client id, cut to its first 96 bits (forging one means
guessing it through the bot, one ``/start`` at a time). Kind 1 carries the id as UTF-8, at most
31 bytes; kind 2 carries a canonical UUID (``8-4-4-4-12`` lower-case hex) as its 16 bytes, so hosts
that number clients by UUID fit too. A token is 24 to 64 characters long.

`verify_start` checks the cheap things first (length, alphabet), then the MAC over the bytes as
sent, and only then reads the id and the expiry; it raises nothing but `tidings.links.LinkError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from tidings.links import MIN_SECRET_BYTES, LinkError
from tidings.logging import get_logger

log = get_logger(__name__)

__all__ = ["MAX_PAYLOAD", "MAX_TEXT_ID", "start_token", "start_url", "telegram_start_url", "verify_start"]

MAX_PAYLOAD = 64                       # Telegram's limit on a deep link's start parameter
MAX_TEXT_ID = 31                       # bytes of a client id written as text: 48 bytes - 1 - 4 - 12
_LABEL = b"tidings-telegram-start/1\x00"   # the MAC covers it, so no other token format's MAC can pass for one
_TEXT, _UUID = 1, 2
_MAC_BYTES = 12
_HEADER = 1 + 4 + _MAC_BYTES
_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LATEST = 2**32 - 1                    # the last second four bytes hold (2106)


def _key(secret: str) -> bytes:
    if not secret:
        raise LinkError("no /start link secret is configured: set [channels.telegram].start_secret or "
                        "$TIDINGS_TELEGRAM_START_SECRET", reason="no_secret")
    key = secret.encode("utf-8")
    if len(key) < MIN_SECRET_BYTES:
        raise LinkError(f"the /start link secret is {len(key)} bytes long; use at least {MIN_SECRET_BYTES} "
                        "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                        reason="weak_secret")
    return key


def _mac(key: bytes, kind: int, expiry: bytes, client: bytes) -> bytes:
    return hmac.new(key, _LABEL + bytes([kind]) + expiry + client, hashlib.sha256).digest()[:_MAC_BYTES]


def _encoded(client_id: str) -> tuple[int, bytes]:
    try:
        if str(uuid.UUID(client_id)) == client_id:
            return _UUID, uuid.UUID(client_id).bytes
    except ValueError:
        pass
    data = client_id.encode("utf-8")
    if not data or len(data) > MAX_TEXT_ID:
        raise ValueError(f"client id {client_id!r} does not fit a Telegram /start link: it takes ids of 1 to "
                         f"{MAX_TEXT_ID} bytes, or a UUID")
    return _TEXT, data


def start_token(client_id: str, *, secret: str, expires: datetime) -> str:
    """The ``/start`` payload that names `client_id` until `expires` (an aware time), signed with `secret`.

    Raises:
        LinkError: reason ``no_secret`` or ``weak_secret`` (shorter than 32 bytes).
        ValueError: for an id that does not fit (empty, or over 31 bytes and not a UUID), or a naive `expires`.
    """
    key = _key(secret)
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    kind, client = _encoded(client_id)
    expiry = min(max(int(expires.timestamp()), 0), _LATEST).to_bytes(4, "big")
    raw = bytes([kind]) + expiry + _mac(key, kind, expiry, client) + client
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def start_url(bot_username: str, client_id: str, *, secret: str, expires: datetime) -> str:
    """``https://t.me/<bot_username>?start=<token>``: the link that opens the bot's chat for `client_id`.

    Raises:
        LinkError, ValueError: as `start_token`.
    """
    token = start_token(client_id, secret=secret, expires=expires)
    return f"https://t.me/{quote(bot_username.removeprefix('@'), safe='')}?start={token}"


def verify_start(payload: str, *, secret: str, now: datetime | None = None) -> str:
    """The client id a ``/start`` payload names, if `secret` signed it and it has not expired.

    Args:
        payload: what follows ``/start`` in the message the bot received (the whole text
            ``/start <payload>`` is taken too).
        secret: the channel's ``start_secret``.
        now: the time to check the expiry against; defaults to the current time (this is the
            host's entry point, so it may read the system clock).

    Raises:
        LinkError: and nothing else; `reason` is ``malformed`` (not a token of this format),
            ``bad_signature`` (not signed with this secret, or altered), ``expired``, ``no_secret``
            or ``weak_secret``.
    """
    key = _key(secret)
    if not isinstance(payload, str):
        raise LinkError("the /start payload is malformed", reason="malformed")
    text = payload.strip()
    command, _, rest = text.partition(" ")
    if command == "/start" or command.startswith("/start@"):
        text = rest.strip()
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise LinkError("the /start payload is malformed", reason="malformed")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise LinkError("the /start payload is malformed", reason="malformed") from None
    if len(raw) <= _HEADER:
        raise LinkError("the /start payload is malformed", reason="malformed")
    kind, expiry, mac, client = raw[0], raw[1:5], raw[5:_HEADER], raw[_HEADER:]
    # the MAC is checked on the bytes as sent, before the id or the expiry is read
    if not hmac.compare_digest(mac, _mac(key, kind, expiry, client)):
        raise LinkError("the /start payload's signature does not match", reason="bad_signature")
    client_id = _decoded(kind, client)
    expires = datetime.fromtimestamp(int.from_bytes(expiry, "big"), tz=timezone.utc)
    if (now or datetime.now(timezone.utc)) >= expires:
        raise LinkError(f"the /start link expired at {expires.isoformat()}", reason="expired")
    return client_id


def _decoded(kind: int, client: bytes) -> str:
    """The id of a signed token; a key that signed junk (no format of ours) still gets `malformed`."""
    if kind == _UUID and len(client) == 16:
        return str(uuid.UUID(bytes=client))
    if kind == _TEXT:
        try:
            return client.decode("utf-8")
        except UnicodeDecodeError:
            pass
    raise LinkError("the /start payload is malformed", reason="malformed")


def telegram_start_url(context: Any) -> str:
    """The template global ``telegram_start_url()``: the message's client's ``/start`` link, or "".

    It is "" (and the template can test it: ``{% if telegram_start_url() %}``) when the Telegram
    channel is not enabled, has no ``bot_username`` or no usable ``start_secret`` (``tidings check``
    warns), or the message has no client, or one whose id does not fit a link.
    """
    from tidings.templates import channel_settings

    settings = channel_settings(context, "telegram")
    client = (context.get("client") or {}).get("id")
    if settings is None or not settings.username or not client:
        return ""
    now = context.get("_now") or datetime.now(timezone.utc)   # a sample render has no moment
    try:
        return start_url(settings.username, str(client), secret=settings.secret(),
                         expires=now + settings.start_ttl.elapsed())
    except LinkError:
        return ""   # `tidings check` reported the missing or weak secret; a render never fails on it
    except ValueError as e:
        log.warning("telegram_start_link_skipped", channel="telegram", reason="client_id_too_long", error=str(e))
        return ""
