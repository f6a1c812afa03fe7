"""What a template sees, by shape: the keys of each variable, for `check`'s messages and suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CONTACT", "DANGEROUS", "DICT_READERS", "HIDDEN", "ITEMS", "SERVICE", "SHAPES", "SHAPE_NAMES", "VARIABLES",
           "suggest"]

# attributes that reach Python's internals: refused by `check` whatever they are read on
DANGEROUS = {"mro", "gi_frame", "gi_code", "cr_frame", "f_globals", "f_locals", "f_builtins", "func_globals",
              "func_code", "tb_frame", "ag_frame", "format_map", "subclasses"}

CONTACT = ("id", "name", "first_name", "phone", "email", "locale")
SERVICE = ("id", "name", "category")
SHAPES: dict[str, tuple[str, ...]] = {
    "client": CONTACT, "staff": CONTACT, "recipient": CONTACT,
    "subject": ("id", "kind", "status", "start", "end", "location", "services", "data", "client", "staff"),
    "previous": ("status", "start"),
    "location": ("id", "name", "address", "phone", "timezone"),
    "rule": ("id", "trigger", "kind", "recipient", "template"),
    "event": ("id", "type", "kind", "verb", "occurred_at"),
}
ITEMS: dict[str, tuple[str, ...]] = {"services": SERVICE}     # the lists a template sees, by the shape of their items
VARIABLES = (*SHAPES, "services", "data")
# what a template calls a value by its keys, for the message of an undefined attribute
SHAPE_NAMES = {frozenset(SERVICE): "a service", frozenset(CONTACT): "a contact (client, staff or recipient)",
                **{frozenset(keys): name for name, keys in SHAPES.items() if keys is not CONTACT}}
HIDDEN = ("_zone", "_locale", "_now")     # read by the filters and link globals, not meant for authors
DICT_READERS = ("get", "items", "keys", "values")


def suggest(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'name'?)`` for the closest of `choices`, else `` (known: ...)``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"
