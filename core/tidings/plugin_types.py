"""The objects plugins register with tidings, one frozen class per hook (conda's ``types.py`` shape).

Each is returned from a ``tidings_*`` registration hook, called once while the core builds its
`Registry`; from then on the core works through these objects only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from attrs import field, frozen

from tidings.errors import PluginError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tidings.rules import Location, Rule
    from tidings.errors import Problem
    from tidings.models import Contact, Event, Subject


@frozen
class NoConfig:
    """The settings type of a plugin that takes none."""


# ---------------------------------------------------------------- channels


@frozen
class RenderedMessage:
    """A message ready for a transport: rendered parts for one recipient and one channel."""

    channel: str
    to: str                                 # the normalised address: E.164, e-mail, push endpoint
    parts: Mapping[str, str]                # ("text",) / ("subject", "text", "html") / ("title", "body")
    rule: str = ""
    subject: str = ""
    recipient: Contact | None = None        # the push transport finds subscription keys here
    locale: str = "en"
    location: Mapping[str, Any] = field(factory=dict)  # the location's name, address, phone, channel overrides
    # every address of the recipient this channel may use, `to` first: a transport that sends to several
    # (push: each subscription) sends to these only, never to one its provider reported gone
    addresses: tuple[str, ...] = ()


@frozen
class Receipt:
    """What a transport reports after a delivery the provider accepted."""

    provider_id: str | None = None
    info: Mapping[str, Any] = field(factory=dict)   # e.g. {"encoding": "UCS-2", "segments": 2}


class NoAddress(tuple[str, ...]):
    """What a channel's `addresses` may return instead of ``()``: no address, and why.

    It *is* an empty tuple (falsy, equal to ``()``), so a caller that only asks "any address?"
    needs no change, and a channel that returns a bare ``()`` stays valid. The core records the
    recipient as ``invalid_address`` either way, and keeps `reason` as its detail
    (``"detail": {"sms": "not_mobile"}`` in the delivery log and ``--explain``).

    Example::

        def sms_addresses(contact, settings):
            if not contact.phone:
                return NoAddress("no_phone")
            ...
    """

    reason: str   # a short snake_case code: "no_phone", "not_a_number", "not_mobile"

    def __new__(cls, reason: str) -> NoAddress:
        self = super().__new__(cls)
        self.reason = reason
        return self

    def __repr__(self) -> str:
        return f"NoAddress({self.reason!r})"


class Transport(Protocol):
    """What a channel's `connect` returns; raises TransientDeliveryError or PermanentDeliveryError.

    Addresses the provider reported gone for good (push: a subscription answered 404 or 410) are
    listed in ``details["gone"]`` of the error, or in ``info["gone"]`` of the receipt when the
    message reached other addresses; the core remembers them (see `Channel.address_key`).

    A transport may also have ``find(*, idempotency_key) -> Receipt | None``: the provider's own
    record of a message sent under that key (None if it never arrived). The core calls it before
    sending a message again whose earlier attempt may have reached the provider (its worker died
    mid-request), so that the provider does not get the same message twice.
    """

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt: ...

    def close(self) -> None: ...


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

# the roles the delivery log's `text` is taken from, best first
TEXT_ROLES = ("text", "short", "brief", "html")


def _roles(channel: Channel, attribute: Any, roles: Mapping[str, str]) -> None:
    for part, role in roles.items():
        if part not in channel.parts:
            raise PluginError(f"channel {channel.name!r}: roles names {part!r}, which is not one of its parts "
                              f"({', '.join(channel.parts)})")
        if role not in ROLES:
            raise PluginError(f"channel {channel.name!r}: {role!r} is not a part role (choose one of: {', '.join(ROLES)})")


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


# ---------------------------------------------------------------- triggers

STATUSES = "tidings.statuses"
"""The ``metadata`` key marking a trigger's rule key whose values are subject statuses.

``to: tuple[str, ...] | None = field(default=None, metadata={STATUSES: True})``: for a rule of kind
``appointment`` the core checks each value against the appointment statuses and reports a typo
with a suggestion; orders and leads take any status (PRODUCT §3).
"""


@frozen
class Send:
    """Intent: one message of this rule is due at `due` (replaces the pending one of the same slot)."""

    due: datetime
    scope: str | None = None         # None: one per subject; "client:<id>": one per client (repeat-visit)
    suspended: bool = False          # kept, but not sent until restored
    intended: datetime | None = None  # the time the message is meant for when sent at another (late = "send")
    reason: str = "scheduled"
    info: Mapping[str, Any] = field(factory=dict)   # kept with the pending message, handed back to plan()
    # the ids of the subject's services this message is about: its templates see only those as `services`
    # (a repeat-visit invitation names the services it follows, not every service of the visit); None: all
    services: tuple[str, ...] | None = None


@frozen
class Drop:
    """Intent: the pending message of this slot is no longer wanted."""

    reason: str
    scope: str | None = None


@frozen
class Suspend:
    """Intent: keep the pending message of this slot, but do not send it while suspended."""

    reason: str
    scope: str | None = None


@frozen
class Restore:
    """Intent: send the suspended message of this slot at its original time, or at once if that passed."""

    reason: str
    scope: str | None = None


@frozen
class Skip:
    """Intent: nothing is sent for this event, and the reason is worth recording (--explain)."""

    reason: str


Intent = Send | Drop | Suspend | Restore | Skip


@frozen
class Pending:
    """A pending message as triggers see it."""

    slot: str
    rule: str
    subject: str
    due: datetime
    suspended: bool
    info: Mapping[str, Any]


class History(Protocol):
    """What a trigger may ask of the schedule store while planning (read-only)."""

    def pending(self, rule: str, scope: str) -> Pending | None: ...

    # the subject's stored snapshot when it is of a later event than `event` (workers took the two in the
    # other order): the subject's state is that snapshot, not the event's; None when `event` is the latest
    def newer_snapshot(self, event: Event) -> Subject | None: ...

    def client_subjects(self, client_id: str, *, kind: str = "appointment") -> list[Subject]: ...

    def zone(self, location: str | None) -> ZoneInfo: ...


@frozen
class Trigger:
    """Returned from `tidings_triggers`: one trigger, a pure planner from events to intents."""

    name: str                                            # "pre-visit": entry-point name and rule value
    summary: str
    rule_type: type                                      # attrs class of this trigger's own rule keys
    plan: Callable[[Event, Rule, History], Iterable[Intent]]
    default_template: str                                # name of its built-in texts
    sample: Callable[[], Event] | None = None            # a sample event, for `check` and `preview`
    still_due: Callable[[Subject, Rule, Pending], str | None] | None = None  # reason to drop at due time


# ---------------------------------------------------------------- templates


@frozen
class TemplateFilter:
    """Returned from `tidings_template_filters`: a Jinja filter for every template."""

    name: str
    function: Callable[..., Any]
    needs_context: bool = False     # called as function(context, value, ...) with the render context


@frozen
class TemplateGlobal:
    """Returned from `tidings_template_globals`: a function or value every template may use."""

    name: str
    value: Any
    needs_context: bool = False


@frozen
class TemplateTexts:
    """Returned from `tidings_template_texts`: a built-in template in one locale, per part role.

    Any channel gets the text of each of its parts' roles (`ROLES`); `channels` may give one
    channel texts of its own, by part name, which it gets instead.
    """

    name: str                                 # "pre-visit"
    locale: str                               # "pl"
    texts: Mapping[str, str] = field(factory=dict)    # role -> Jinja source: {"title": ..., "short": ..., ...}
    channels: Mapping[str, Mapping[str, str]] = field(factory=dict)  # channel -> part -> source, for that channel only

    def for_channel(self, channel: Channel) -> dict[str, str]:
        """The sources of `channel`'s parts, by part name: its own texts if any, else one per role it has."""
        if channel.name in self.channels:
            return dict(self.channels[channel.name])
        roles = {part: channel.role(part) for part in channel.parts}
        return {part: self.texts[role] for part, role in roles.items() if role is not None and role in self.texts}


RegistrationType = Channel | Trigger | TemplateFilter | TemplateGlobal | TemplateTexts
__all__ = ["ROLES", "STATUSES", "Channel", "Description", "Drop", "History", "Intent", "NoAddress", "NoConfig", "Pending", "Receipt", "RenderedMessage",
           "Restore", "Send", "Skip", "Suspend", "TemplateFilter", "TemplateGlobal", "TemplateTexts",
           "Transport", "Trigger", "Iterable"]
