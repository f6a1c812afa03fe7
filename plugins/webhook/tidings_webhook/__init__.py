"""tidings-webhook: each message and its context POSTed as JSON to the host, signed per Standard Webhooks.

The channel itself is registered by :mod:`tidings_webhook.plugin`. A host receiving its requests
verifies them with any Standard Webhooks library (``standardwebhooks.Webhook(secret).verify(body,
headers)`` in Python) and uses ``webhook-id``, the message's idempotency key, to process each
message once; `payload` builds the body the transport sends, and `signature` signs it.
"""

from __future__ import annotations

from tidings_webhook.addresses import webhook_addresses
from tidings_webhook.config import WebhookConfig
from tidings_webhook.payload import EVENT_TYPE, payload
from tidings_webhook.signing import SecretError, secret_key, signature

__all__ = ["EVENT_TYPE", "SecretError", "WebhookConfig", "payload", "secret_key", "signature", "webhook_addresses"]
