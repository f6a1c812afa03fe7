"""Signed confirm / cancel links (PRODUCT §10): an HMAC-SHA256 token naming a subject and an action.

A token is ``PAYLOAD.SIGNATURE``, both URL-safe base64 without padding; the payload is the JSON
``{"s": subject, "a": action, "e": expiry in Unix seconds, "n": nonce}``. Templates build links with
``confirm_url()`` / ``cancel_url()``; the host checks what comes back with one call::

    from tidings.links import verify
    claim = verify(token)          # secret from TIDINGS_LINK_SECRET; raises LinkError
    claim.subject, claim.action    # then publish the status change

A link a client could follow twice (a cancel link forwarded, replayed from a browser history) can be
made single-use by handing `verify` somewhere to record uses: ``verify(token, uses=MemoryUses())``
in one process, ``verify(token, uses=RedisUses(client))`` across many. The second use of the same
token raises ``LinkError(reason="used")``.

What an attacker controls is the token, so `verify` does the cheap, safe checks first: the length,
the alphabet, then the signature over the payload *as sent*, and only then decodes and parses the
payload (which a valid signature proves we wrote). It raises nothing but `LinkError`.

The secret never appears in a message, a repr or a log, and must be at least `MIN_SECRET_BYTES` long.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets as _secrets
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from attrs import define, field, frozen

from tidings.errors import TidingsError

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["MAX_TOKEN", "MIN_SECRET_BYTES", "SECRET_ENV", "Claim", "LinkError", "LinkUses", "MemoryUses",
           "RedisUses", "build_url", "check_secret", "sign", "verify"]

SECRET_ENV = "TIDINGS_LINK_SECRET"
MIN_SECRET_BYTES = 32          # an HMAC-SHA256 key shorter than its output is guessable offline
MAX_TOKEN = 2048               # characters; a real token is ~150, a link carrying it a few hundred more
_ACTION = re.compile(r"^[a-z_]+$")
_B64 = re.compile(r"[A-Za-z0-9_-]+")
_LATEST = 253402300799         # 9999-12-31T23:59:59Z: the last second a datetime can hold


class LinkError(TidingsError):
    """Raised for a token that cannot be trusted; `reason` says why.

    Reasons: ``malformed``, ``bad_signature``, ``expired``, ``wrong_action``, ``used``, ``no_secret``,
    ``weak_secret``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


@frozen
class Claim:
    """What a valid token says: this action on this subject, until `expires` (UTC).

    `token_id` names this one token (its signature); it is what a `LinkUses` records.
    """

    subject: str
    action: str
    expires: datetime
    token_id: str = ""


class LinkUses(Protocol):
    """Where single-use tokens are recorded: `first_use` is True the first time a token id is seen."""

    def first_use(self, token_id: str, *, expires: datetime, now: datetime) -> bool: ...


@define
class MemoryUses:
    """Token uses kept in this process (a host with one process, tests); forgotten after expiry."""

    _seen: dict[str, float] = field(factory=dict)
    _lock: threading.Lock = field(factory=threading.Lock)

    def first_use(self, token_id: str, *, expires: datetime, now: datetime) -> bool:
        with self._lock:
            for stale in [k for k, until in self._seen.items() if until <= now.timestamp()]:
                del self._seen[stale]
            if token_id in self._seen:
                return False
            self._seen[token_id] = expires.timestamp()
            return True


@define
class RedisUses:
    """Token uses kept in Redis under `prefix`, each until its token expires (any number of hosts)."""

    client: Redis
    prefix: str = "tidings:link-used:"

    def first_use(self, token_id: str, *, expires: datetime, now: datetime) -> bool:
        seconds = max(1, int(expires.timestamp() - now.timestamp()) + 1)
        return bool(self.client.set(f"{self.prefix}{token_id}", 1, nx=True, ex=seconds))


def check_secret(secret: str) -> str | None:
    """Why `secret` cannot sign links, or None when it can."""
    if not secret:
        return f"no link secret is configured: set [links].secret or {SECRET_ENV}"
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        return (f"the link secret is {len(secret.encode('utf-8'))} bytes long; use at least {MIN_SECRET_BYTES} "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return None


def _key(secret: str) -> bytes:
    problem = check_secret(secret)
    if problem is not None:
        raise LinkError(problem, reason="no_secret" if not secret else "weak_secret")
    return secret.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def sign(subject: str, action: str, *, secret: str, expires: datetime) -> str:
    """A token for `action` on `subject`, valid until `expires` (an aware time).

    Raises:
        LinkError: when the secret is missing or shorter than `MIN_SECRET_BYTES`.
        ValueError: for an action that is not a plain name or an expiry without a time zone.
    """
    if not _ACTION.match(action):
        raise ValueError(f"{action!r} is not an action (lower-case letters and _)")
    key = _key(secret)
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    body = json.dumps({"s": subject, "a": action, "e": int(expires.timestamp()), "n": _secrets.token_urlsafe(6)},
                      separators=(",", ":"), ensure_ascii=False)
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_b64(_mac(key, payload))}"


def build_url(base_url: str, subject: str, action: str, *, secret: str, expires: datetime) -> str:
    """``https://salon.example/t`` → ``https://salon.example/t/confirm?token=...`` (keeping any query)."""
    parts = urlsplit(base_url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query["token"] = [sign(subject, action, secret=secret, expires=expires)]
    path = f"{parts.path.rstrip('/')}/{action}"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, doseq=True), parts.fragment))


def verify(token: str, *, secret: str | None = None, now: datetime | None = None, action: str | None = None,
           uses: LinkUses | None = None) -> Claim:
    """The claim of a valid token (or of a link carrying ``token=``); LinkError otherwise, never another error.

    Args:
        token: the token, or the whole link that carries it.
        secret: defaults to ``$TIDINGS_LINK_SECRET``.
        now: defaults to the current time (this is the host's entry point, so it may read the system clock).
        action: when given, the token's action must be this one.
        uses: where to record this use; a token already recorded there raises ``LinkError(reason="used")``.
            Pass it where acting twice would be wrong (a cancel link replayed after the visit was rebooked).
    """
    key = _key(secret if secret is not None else os.environ.get(SECRET_ENV, ""))
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise LinkError("the link token is malformed", reason="malformed")
    if "token=" in token:
        found = parse_qs(urlsplit(token).query).get("token")
        token = found[0] if found else ""
    payload, dot, signature = token.partition(".")
    if not dot or not _B64.fullmatch(payload) or not _B64.fullmatch(signature):
        raise LinkError("the link token is malformed", reason="malformed")
    try:
        given = _unb64(signature)
    except (ValueError, binascii.Error):
        raise LinkError("the link token is malformed", reason="malformed") from None
    # the signature is checked on the payload as sent, before anything of it is decoded or parsed
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise LinkError("the link token's signature does not match", reason="bad_signature")
    claim = _claim(payload, token_id=signature)
    now = now or datetime.now(timezone.utc)
    if now >= claim.expires:
        raise LinkError(f"the link expired at {claim.expires.isoformat()}", reason="expired")
    if action is not None and claim.action != action:
        raise LinkError(f"the link is for {claim.action!r}, not {action!r}", reason="wrong_action")
    if uses is not None and not uses.first_use(claim.token_id, expires=claim.expires, now=now):
        raise LinkError("the link was used already", reason="used")
    return claim


def _claim(payload: str, *, token_id: str) -> Claim:
    """The claim of a payload whose signature matched: we wrote it, but a key may still have signed junk."""
    try:
        body: Any = json.loads(_unb64(payload).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise LinkError("the link token is malformed", reason="malformed") from None
    if not isinstance(body, dict) or not isinstance(body.get("s"), str) or not isinstance(body.get("a"), str) \
            or type(body.get("e")) is not int or not _utf8(body["s"]) or not _utf8(body["a"]):
        raise LinkError("the link token is malformed", reason="malformed")
    seconds = cast(int, body["e"])
    expires = datetime.fromtimestamp(min(max(seconds, 0), _LATEST), tz=timezone.utc)
    return Claim(subject=body["s"], action=body["a"], expires=expires, token_id=token_id)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate from a "\\ud800" JSON escape: no id of the host's looks like that
        return False
    return True
