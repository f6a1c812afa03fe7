"""`Channel`, returned from `tidings_channels`: how a channel reaches people, and what its parts are for."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from tidings.errors import PluginError
from tidings.models import ADDRESS_KEYS, is_address_key
from tidings.plugin_types.delivery import RenderedMessage, Transport

if TYPE_CHECKING:
    from tidings.errors import Problem
    from tidings.models import Contact
    from tidings.rules import Location

__all__ = ["OUTCOMES", "ROLES", "TEXT_ROLES", "Channel", "Description", "NoConfig"]

OUTCOMES: Mapping[str, str] = {
    "sent": "the transport delivered the message to its recipient (every provider channel)",
    "queued": "the transport handed the message to people who send it themselves (the manual channel's staff)",
}
"""What the delivery log records when a channel's transport took a message, by `Channel.outcome`."""


@frozen
class NoConfig:
    """The settings type of a plugin that takes none."""


ROLES: Mapping[str, str] = {
    "title": "a subject line or a notification's title",
    "text": "the whole message as plain text, as long as it needs (an e-mail's body)",
    "html": "the whole message as HTML (an e-mail's HTML body)",
    "short": "the whole message in one short text, greeting included, dates written briefly (an SMS)",
    "brief": "the message in a sentence shown under a title, no greeting (a push notification's body)",
}
"""What a template part of a channel is for, by role name.

Built-in texts are written per role (`TemplateTexts.texts`), so a channel gets them by declaring
the roles of its parts, whatever it calls them: a new channel with parts of roles ``title`` and
``text`` sends every trigger's built-in texts without writing any. The delivery log keeps a sent
message's ``title`` (role ``title``) and ``text`` (the first of ``text``, ``short``, ``brief``,
``html`` the channel has).
"""

def _reads(channel: Channel, attribute: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        if not is_address_key(key):
            raise PluginError(f"channel {channel.name!r}: reads names {key!r}, which is not where a contact keeps an "
                              f"address ({', '.join(ADDRESS_KEYS)} or addresses.<name>)")


# the roles the delivery log's `text` is taken from, best first
TEXT_ROLES = ("text", "short", "brief", "html")


def _roles(channel: Channel, attribute: Any, roles: Mapping[str, str]) -> None:
    for part, role in roles.items():
        if part not in channel.parts:
            raise PluginError(f"channel {channel.name!r}: roles names {part!r}, which is not one of its parts "
                              f"({', '.join(channel.parts)})")
        if role not in ROLES:
            raise PluginError(f"channel {channel.name!r}: {role!r} is not a part role (choose one of: {', '.join(ROLES)})")


def _outcome(channel: Channel, value: str) -> None:
    if value not in OUTCOMES:
        raise PluginError(f"channel {channel.name!r}: outcome {value!r} is not one of {', '.join(OUTCOMES)}")


@frozen(eq=False)
class Description(Mapping[str, Any]):
    """What a channel's `describe` may return: facts about a rendered message, and how to show them.

    It is a read-only mapping of its `facts`, with each of its `alternatives` as a nested mapping:
    that is what the delivery log keeps as a sent message's ``info``. ``tidings preview`` and
    ``tidings check`` show it as its `phrase` (``UCS-2, 2 segments``), and, for a channel whose
    messages cost what their text makes them cost (`cost`), count that cost for a sample visit in
    every month of the year. A `describe` that returns a plain mapping is read with `of`.
    """

    facts: Mapping[str, Any]                 # {"encoding": "UCS-2", "segments": 2}
    phrase: str = ""                         # how to write the facts; "" writes them as "key: value, ..."
    detail: str = ""                         # what `preview` adds after the phrase ("57 characters")
    cost: int | None = None                  # what the provider bills for it, in the channel's units; None: not by text
    alternatives: Mapping[str, Description] = field(factory=dict)   # other ways of sending it ("transliterated")

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Description:
        """A description of what a `describe` returned: itself, or a mapping whose nested mappings are alternatives."""
        if isinstance(info, Description):
            return info
        return cls(facts={k: v for k, v in info.items() if not isinstance(v, Mapping)},
                   alternatives={k: cls.of(v) for k, v in info.items() if isinstance(v, Mapping)})

    def written(self) -> str:
        """The facts as words: the `phrase`, or ``key: value, ...``."""
        return self.phrase or ", ".join(f"{k}: {v}" for k, v in self.facts.items())

    def _whole(self) -> dict[str, Any]:
        return {**self.facts, **{name: dict(alternative) for name, alternative in self.alternatives.items()}}

    def __getitem__(self, key: str) -> Any:
        return self._whole()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())


@frozen
class Channel:
    """Returned from `tidings_channels`: one delivery channel."""

    name: str                                           # entry-point name, config key, rule value
    summary: str                                        # one line, shown by `tidings plugins`
    parts: tuple[str, ...]                              # the template parts this channel renders, by name
    addresses: Callable[[Contact, Any], tuple[str, ...]]  # (contact, settings) -> valid normalised addresses, or NoAddress(why)
    connect: Callable[[Any], Transport]                 # settings -> the real transport
    config_type: type = NoConfig                        # attrs class structured from [channels.<name>]
    # part -> its role (one of ROLES), for the parts not named after their role: {"subject": "title"}
    roles: Mapping[str, str] = field(factory=dict, validator=_roles)
    describe: Callable[[Mapping[str, str]], Mapping[str, Any]] | None = None  # a Description, e.g. SMS encoding and segments
    locate: Callable[[Any, Location], Any] | None = None  # (settings, location) -> the settings that apply there
    prepare: Callable[[RenderedMessage, Any], RenderedMessage] | None = None  # (message, settings) -> as it is sent
    check: Callable[[Any, Sequence[Location]], Iterable[Problem]] | None = None  # (settings, locations) -> for `tidings check`
    # (contact, address) -> the identity of that address as the host sent it, or None. An address the
    # provider reported gone is remembered by it and never used again, until the host sends one with
    # another identity (push: the endpoint with its keys, so a re-subscription is usable at once).
    address_key: Callable[[Contact, str], str | None] | None = None
    # settings -> what would stop `connect`, found without any network I/O; only `tidings check` and `connect` ask
    verify: Callable[[Any], Iterable[Problem]] | None = None
    # what the delivery log records when the transport took a message (one of OUTCOMES): "queued" for a channel
    # whose messages people send themselves; either way the message is never handed to the channel twice
    outcome: str = field(default="sent", validator=lambda channel, _, value: _outcome(channel, value))
    # the contact keys its addresses come from, any one of them enough (a phone: ("phone",); Telegram:
    # ("addresses.telegram",)): `tidings check` says per rule what each channel needs; () says nothing
    reads: tuple[str, ...] = field(default=(), validator=_reads)
    # True: `connect(settings, data=PluginData)` also gets the channel's own namespace of the schedule store
    # (`tidings.store.data.PluginData`, named after the channel), shared by every worker of the deployment
    uses_store: bool = False

    def role(self, part: str) -> str | None:
        """The role of one of this channel's parts: the one `roles` gives, else its name if that is a role."""
        return self.roles.get(part) or (part if part in ROLES else None)

    def part(self, *roles: str) -> str | None:
        """The name of this channel's part with the first of `roles` it has, or None."""
        for role in roles:
            for part in self.parts:
                if self.role(part) == role:
                    return part
        return None

    def logged(self, parts: Mapping[str, str]) -> dict[str, str | None]:
        """The ``title`` and ``text`` the delivery log keeps of a message rendered for this channel, by role."""
        title = self.part("title")
        texts = [part for role in TEXT_ROLES if (part := self.part(role)) is not None and part in parts]
        return {"title": (parts.get(title) or None) if title else None, "text": parts[texts[0]] if texts else None}
