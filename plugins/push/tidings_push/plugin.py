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
from tidings.errors import ConfigError, Problem
from tidings.plugin_types import Channel, Transport

from tidings_push.addresses import push_addresses, subscription_key
from tidings_push.config import VAPID_KEY_ENV, PushConfig


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="push", summary="Web Push to browsers and phones (VAPID, RFC 8291 encryption), dropping gone subscriptions",
                  parts=("title", "body"), config_type=PushConfig, addresses=push_addresses, connect=connect,
                  address_key=subscription_key)


def connect(settings: PushConfig | None) -> Transport:
    """The Web Push transport, with its VAPID key loaded and one HTTP session reused for every send.

    Raises:
        ConfigError: when the VAPID key or subject is missing, or the key (from the environment)
            cannot be read, listing every problem.
    """
    config = settings if settings is not None else PushConfig()
    value, where = config.private_key_source()
    problems = []
    key = None
    if not value.strip():
        problems.append(Problem("channels.push.vapid_private_key",
                                f"is required to sign push requests (or set ${VAPID_KEY_ENV})"))
    else:
        from tidings_push.keys import load_private_key

        try:
            key = load_private_key(value)
        except ValueError as e:
            problems.append(Problem(where, str(e)))
    if not config.vapid_subject:
        problems.append(Problem("channels.push.vapid_subject",
                                "is required: a mailto: address or an https URL where push services can reach you"))
    if problems or key is None:
        raise ConfigError(problems)
    from tidings_push.webpush import WebPushTransport

    return WebPushTransport.connect(config, key=key)
