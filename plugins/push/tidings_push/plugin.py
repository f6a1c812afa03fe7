"""The ``push`` entry point of ``tidings.channels``: registers the Web Push channel.

The channel reads a contact's ``push`` subscriptions (`push_addresses`), renders a ``title`` and
a ``body``, and delivers them through each subscription's push service (`connect`), signed with
VAPID (RFC 8292) and encrypted for the browser (RFC 8291, ``aes128gcm``). The crypto and HTTP
stack (pywebpush, py-vapid, cryptography, requests) is imported inside `connect` only, so
``tidings check`` and ``simulate`` never load it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tidings import hookimpl
from tidings.channel_kit import missing
from tidings.errors import Problem, raise_problems
from tidings.plugin_types import Channel, Transport

from tidings_push.addresses import push_addresses, subscription_key
from tidings_push.config import VAPID_KEY, PushConfig


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="push", summary="Web Push to browsers and phones (VAPID, RFC 8291 encryption), dropping gone subscriptions",
                  reads=("push",),
                  parts=("title", "body"), roles={"body": "brief"}, config_type=PushConfig, addresses=push_addresses,
                  connect=connect, address_key=subscription_key, verify=verify)


def connect(settings: PushConfig | None) -> Transport:
    """The Web Push transport, with its VAPID key loaded and one HTTP session reused for every send.

    Raises:
        ConfigError: when the VAPID key or subject is missing, or the key (from the environment)
            cannot be read, listing every problem that `verify` finds, its warnings included.
    """
    config = settings if settings is not None else PushConfig()
    raise_problems(verify(config))
    from tidings_push.keys import load_private_key
    from tidings_push.webpush import WebPushTransport

    return WebPushTransport.connect(config, key=load_private_key(config.private_key_source()[0]))


def verify(settings: PushConfig | None) -> Iterator[Problem]:
    """The channel's `verify`: what would stop `connect`, found without any network I/O (``tidings check``).

    A missing ``vapid_subject`` is an error. The key from ``$TIDINGS_VAPID_PRIVATE_KEY`` belongs to
    the environment, which may differ where the worker runs: missing or unreadable, it is a warning.
    (A key written in the table was read when the table was structured.)
    """
    config = settings if settings is not None else PushConfig()
    value, where = config.private_key_source()
    if not value.strip():
        yield VAPID_KEY.unset("is required to sign push requests")
    elif where != VAPID_KEY.path:
        from tidings_push.keys import load_private_key   # imports cryptography: only when the key is in the environment

        try:
            load_private_key(value)
        except ValueError as e:
            yield Problem(where, str(e), warning=True)
    yield from missing(config, "channels.push", {
        "vapid_subject": "is required: a mailto: address or an https URL where push services can reach you"})
