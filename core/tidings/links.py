"""Signed confirm / cancel links (PRODUCT §10): an HMAC-SHA256 token naming a subject and an action.

A token is ``PAYLOAD.SIGNATURE``, both URL-safe base64 without padding; the payload is the JSON
``{"s": subject, "a": action, "e": expiry in Unix seconds}``. Templates build links with
``confirm_url()`` / ``cancel_url()``; the host checks what comes back with one call::

    from tidings.links import verify
    claim = verify(token)          # secret from TIDINGS_LINK_SECRET; raises LinkError
    claim.subject, claim.action    # then publish the status change

The secret never appears in a message, a repr or a log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from attrs import frozen

from tidings.errors import TidingsError

__all__ = ["Claim", "LinkError", "SECRET_ENV", "build_url", "sign", "verify"]

SECRET_ENV = "TIDINGS_LINK_SECRET"
_ACTION = re.compile(r"^[a-z_]+$")


class LinkError(TidingsError):
    """Raised for a token that cannot be trusted; `reason` says why.

    Reasons: ``malformed``, ``bad_signature``, ``expired``, ``wrong_action``, ``no_secret``.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message)


@frozen
class Claim:
    """What a valid token says: this action on this subject, until `expires` (UTC)."""

    subject: str
    action: str
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("not URL-safe base64")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), payload.encode("ascii"), hashlib.sha256).digest()


def sign(subject: str, action: str, *, secret: str, expires: datetime) -> str:
    """A token for `action` on `subject`, valid until `expires` (an aware time)."""
    if not _ACTION.match(action):
        raise ValueError(f"{action!r} is not an action (lower-case letters and _)")
    if not secret:
        raise LinkError("no link secret is configured: set [links].secret or TIDINGS_LINK_SECRET", reason="no_secret")
    if expires.tzinfo is None:
        raise ValueError("expires must carry a time zone")
    body = json.dumps({"s": subject, "a": action, "e": int(expires.timestamp())}, separators=(",", ":"), ensure_ascii=False)
    payload = _b64(body.encode("utf-8"))
    return f"{payload}.{_b64(_mac(secret, payload))}"


def build_url(base_url: str, subject: str, action: str, *, secret: str, expires: datetime) -> str:
    """``https://salon.example/t`` → ``https://salon.example/t/confirm?token=...`` (keeping any query)."""
    parts = urlsplit(base_url)
    query = parse_qs(parts.query, keep_blank_values=True)
    query["token"] = [sign(subject, action, secret=secret, expires=expires)]
    path = f"{parts.path.rstrip('/')}/{action}"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, doseq=True), parts.fragment))


def verify(token: str, *, secret: str | None = None, now: datetime | None = None, action: str | None = None) -> Claim:
    """The claim of a valid token (or of a link carrying ``token=``); LinkError otherwise.

    `secret` defaults to ``$TIDINGS_LINK_SECRET``; `now` to the current time (this is the host's
    entry point, so it may read the system clock); `action`, when given, must match the token's.
    """
    if secret is None:
        secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise LinkError(f"no link secret: pass secret= or set {SECRET_ENV}", reason="no_secret")
    if "token=" in token:
        found = parse_qs(urlsplit(token).query).get("token")
        token = found[0] if found else ""
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature or "." in signature:
        raise LinkError("the link token is malformed", reason="malformed")
    try:
        given = _unb64(signature)
        body = json.loads(_unb64(payload).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise LinkError("the link token is malformed", reason="malformed") from None
    if not hmac.compare_digest(given, _mac(secret, payload)):
        raise LinkError("the link token's signature does not match", reason="bad_signature")
    if not isinstance(body, dict) or not isinstance(body.get("s"), str) or not isinstance(body.get("a"), str) \
            or not isinstance(body.get("e"), int):
        raise LinkError("the link token is malformed", reason="malformed")
    expires = datetime.fromtimestamp(body["e"], tz=timezone.utc)
    if (now or datetime.now(timezone.utc)) >= expires:
        raise LinkError(f"the link expired at {expires.isoformat()}", reason="expired")
    if action is not None and body["a"] != action:
        raise LinkError(f"the link is for {body['a']!r}, not {action!r}", reason="wrong_action")
    return Claim(subject=body["s"], action=body["a"], expires=expires)
