"""The ``manual`` entry point of ``tidings.channels``: messages queued for staff instead of sent, and ``tidings manual``.

The channel reaches a contact with a phone or an e-mail address (`manual_addresses`) and renders
a ``subject`` (role ``title``, the e-mail's subject) and a ``text`` (role ``short``, as an SMS has
it: staff mostly send from their phone). Its transport keeps each message in the channel's
namespace of the schedule store (``uses_store``), and the delivery log records it ``queued``
(``outcome``), not ``sent``: staff send it with a one-tap link and mark it done
(`tidings_manual.queue`), which records ``sent``. It needs no provider and no secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tidings import hookimpl
from tidings.plugin_types import Channel, Command
from tidings_manual.addresses import manual_addresses, settings_at
from tidings_manual.config import ManualConfig, settings

if TYPE_CHECKING:
    from tidings.store import PluginData
    from tidings_manual.transport import ManualTransport


@hookimpl
def tidings_channels() -> Iterator[Channel]:
    yield Channel(name="manual", summary="Queued for staff to send by hand, with one-tap WhatsApp, SMS and e-mail links",
                  reads=("phone", "email"),
                  parts=("subject", "text"), roles={"subject": "title", "text": "short"}, config_type=ManualConfig,
                  addresses=manual_addresses, locate=settings_at, connect=connect, outcome="queued", uses_store=True)


@hookimpl
def tidings_commands() -> Iterator[Command]:
    from tidings_manual.cli import manual

    yield Command(name="manual", summary="The messages queued for staff: list them, mark one done", command=manual)


def connect(config: ManualConfig | None, *, data: PluginData) -> ManualTransport:
    """The transport: the queue in the channel's namespace of the schedule store (`data`)."""
    from tidings_manual.transport import ManualTransport

    return ManualTransport(data=data, settings=settings(config))
