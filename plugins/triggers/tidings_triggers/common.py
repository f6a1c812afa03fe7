"""What the four triggers share: option converters and event predicates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidings.models import Event


def names(value: Any) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple (``to = "confirmed"`` or ``to = ["confirmed"]``)."""
    if isinstance(value, str):
        return (value,)
    # a list or tuple only: a table is iterable too, and would give its keys
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{value!r} is not a name or a list of names")


def became(event: Event, status: str) -> bool:
    """Whether this event is the subject reaching `status` (created in it, or changed to it)."""
    if event.subject.status != status:
        return False
    if event.verb == "created":
        return True
    return event.verb == "status_changed" and (event.previous is None or event.previous.status != status)
