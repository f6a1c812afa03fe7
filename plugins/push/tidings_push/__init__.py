"""tidings-push: the Web Push channel of tidings (VAPID, RFC 8291 encryption).

The channel itself is registered by :mod:`tidings_push.plugin`; this package exports the pieces
a host or a test may want on their own. The transport (:mod:`tidings_push.webpush`) and the key
helpers (:mod:`tidings_push.keys`) are not imported here: they load the crypto and HTTP stack.
"""

from __future__ import annotations

from tidings_push.addresses import push_addresses, usable_subscriptions
from tidings_push.config import VAPID_KEY_ENV, PushConfig

__all__ = ["VAPID_KEY_ENV", "PushConfig", "push_addresses", "usable_subscriptions"]
