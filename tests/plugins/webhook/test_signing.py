"""The signature, written with the standard library, against the standardwebhooks package as the independent peer."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timezone

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tidings_webhook.signing import SecretError, secret_key, signature

from .conftest import SECRET


def test_the_library_accepts_our_signature_and_signs_the_same() -> None:
    body = '{"type":"tidings.message","data":{"text":"Zażółć gęślą jaźń"}}'.encode()
    now = int(time.time())
    ours = signature(secret_key(SECRET), "9f2c" * 10, now, body)
    headers = {"webhook-id": "9f2c" * 10, "webhook-timestamp": str(now), "webhook-signature": ours}
    assert Webhook(SECRET).verify(body, headers) == {"type": "tidings.message", "data": {"text": "Zażółć gęślą jaźń"}}
    assert Webhook(SECRET).sign("9f2c" * 10, datetime.fromtimestamp(now, tz=timezone.utc), body.decode()) == ours


def test_a_changed_body_id_or_key_does_not_verify() -> None:
    body, now = b'{"a":1}', int(time.time())
    ours = signature(secret_key(SECRET), "id-1", now, body)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    for data, headers, secret in (
            (b'{"a":2}', {"webhook-id": "id-1", "webhook-timestamp": str(now), "webhook-signature": ours}, SECRET),
            (body, {"webhook-id": "id-2", "webhook-timestamp": str(now), "webhook-signature": ours}, SECRET),
            (body, {"webhook-id": "id-1", "webhook-timestamp": str(now), "webhook-signature": ours}, other)):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(data, headers)


def test_the_key_is_the_secrets_bytes_not_its_text() -> None:
    assert secret_key(SECRET) == bytes(range(32))
    with pytest.raises(SecretError, match="decodes to 8 bytes"):
        secret_key("whsec_" + base64.b64encode(b"12345678").decode())
