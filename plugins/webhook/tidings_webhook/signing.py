"""The Standard Webhooks signature: ``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``.

The secret is written as Standard Webhooks serialises it, ``whsec_`` and the base64 of 24 to 64
random bytes (the specification asks for at least 24), and the HMAC's key is those bytes, not the
text. The signature is written here with the standard library's `hmac` (five lines the
specification spells out), so that the tests can check it against the ``standardwebhooks``
package as an independent peer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "whsec_"
MIN_BYTES = 24
MAX_BYTES = 64


class SecretError(ValueError):
    """A signing secret that is not ``whsec_`` and the base64 of 24 to 64 bytes; its message never quotes it."""


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_...`` secret stands for.

    Raises:
        SecretError: the secret lacks the prefix, is not base64, or decodes to too few or too many bytes.
    """
    if not secret.startswith(PREFIX):
        raise SecretError(f"is not a Standard Webhooks secret: it starts with {PREFIX!r}, then the base64 of "
                          f"{MIN_BYTES} to {MAX_BYTES} random bytes (for example: python -c 'import base64, secrets; "
                          f"print(\"{PREFIX}\" + base64.b64encode(secrets.token_bytes(32)).decode())')")
    try:
        key = base64.b64decode(secret[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise SecretError(f"is not base64 after {PREFIX!r}") from None
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        raise SecretError(f"decodes to {len(key)} bytes; a Standard Webhooks secret has {MIN_BYTES} to {MAX_BYTES}")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of one attempt: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")
