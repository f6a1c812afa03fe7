"""The settings of the manual channel: the ``[channels.manual]`` table of a tidings configuration."""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from tidings.converter import check_fields
from tidings.durations import Duration

LINKS = ("whatsapp", "sms", "email")   # the one-tap links a queued message can carry, in this order


def _check_links(value: tuple[str, ...]) -> str | None:
    unknown = [name for name in value if name not in LINKS]
    if unknown:
        return f"{unknown[0]!r} is not a link the manual channel makes (choose from: {', '.join(LINKS)})"
    if len(set(value)) != len(value):
        return "names a link twice"
    return None


def _check_region(value: str) -> str | None:
    if not value or (len(value) == 2 and value.isalpha() and value.isupper()):
        return None
    return f"{value!r} is not an ISO 3166 region: use two capital letters, like 'PL' (or leave it empty)"


@frozen
class ManualConfig:
    """``[channels.manual]``: which links a queued message carries and how long it waits for staff.

    Attributes:
        links: the one-tap links to offer, of ``whatsapp``, ``sms`` and ``email`` (each where the
            recipient has the address it needs).
        max_age: a message not marked done this long after it was queued expires (``7d``); ``0m``
            means no limit. A message about a visit to come also expires when the visit starts.
        default_region: how national phone numbers are read at a location with no ``region`` whose
            time zone names no country.
    """

    links: tuple[str, ...] = LINKS
    max_age: Duration = field(default=Duration(7, "d"))
    default_region: str = ""

    def __attrs_post_init__(self) -> None:
        check_fields(self, {"links": _check_links, "default_region": _check_region}, "channels.manual")


def settings(value: Any) -> ManualConfig:
    """The structured settings, or the defaults when the channel has no table."""
    return value if isinstance(value, ManualConfig) else ManualConfig()
