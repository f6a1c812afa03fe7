"""Channel selection (PRODUCT §6): which of a rule's channels can reach a recipient, in order."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from tidings.models import Contact
from tidings.plugin_types import Channel, NoAddress

if TYPE_CHECKING:
    from tidings.config import Location


@frozen
class Candidate:
    """A channel that can reach the recipient, with the addresses it would use."""

    channel: Channel
    addresses: tuple[str, ...]
    settings: Any = None             # the channel's settings as they apply at the subject's location


@frozen
class Choice:
    """The usable channels in the rule's order, and why each of the others is not."""

    usable: tuple[Candidate, ...]
    refused: Mapping[str, str]       # channel name -> reason
    details: Mapping[str, str] = field(factory=dict)   # channel name -> why its address is unusable ("not_mobile")

    @property
    def reason(self) -> str:
        """The one reason to record when nothing is usable."""
        reasons = set(self.refused.values())
        return reasons.pop() if len(reasons) == 1 else "no_usable_channel"


def choose(order: Sequence[str], recipient: Contact, *, role: str,
           channels: Mapping[str, Channel], settings: Mapping[str, Any], location: Location | None = None,
           gone: Callable[[Channel, tuple[str, ...]], Collection[str]] | None = None) -> Choice:
    """Every channel of `order` that is usable for `recipient`: a valid address and, for clients, consent.

    A channel with `locate` reads addresses with its settings as they apply at `location` (the SMS
    channel reads national numbers in the location's region). A channel whose `addresses` says why
    there is none (`NoAddress`) has that reason kept in the choice's `details`.

    Args:
        gone: ``(channel, addresses) -> those of them a provider reported gone``; they do not count
            (PRODUCT §6: a push subscription reported gone is no address), and a channel left with
            none is refused as ``address_gone``.
    """
    usable: list[Candidate] = []
    refused: dict[str, str] = {}
    details: dict[str, str] = {}
    for name in order:
        channel = channels.get(name)
        if channel is None:
            refused[name] = "channel_not_enabled"
            continue
        local = settings.get(name)
        if location is not None and channel.locate is not None:
            local = channel.locate(local, location)
        addresses = channel.addresses(recipient, local)
        dead = gone(channel, tuple(addresses)) if gone is not None and addresses else ()
        if dead:
            addresses = tuple(a for a in addresses if a not in dead)
            if not addresses:
                refused[name] = "address_gone"
                continue
        if not addresses:
            refused[name] = "invalid_address"
            if isinstance(addresses, NoAddress):
                details[name] = addresses.reason
        elif role == "client" and recipient.consents.get(name) is not True:
            refused[name] = "no_consent"
        else:
            usable.append(Candidate(channel, tuple(addresses), local))
    return Choice(tuple(usable), refused, details)
