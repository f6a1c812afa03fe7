"""Plugins' own data in the schedule store: JSON values by key and lists of strings, per namespace.

A plugin that keeps state of its own (the manual channel's messages queued for staff) keeps it in
the deployment's schedule store, beside the pending messages, so it is shared by every worker and
kept across restarts exactly as they are: a `PluginData` is one plugin's namespace there. Values
are JSON objects; ``put(..., new=True)`` writes only a key not there yet (an atomic test-and-set),
which is what makes "queued once" hold when two workers or a retry queue the same message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Protocol

from attrs import field, frozen

__all__ = ["DataStore", "PluginData", "check_namespace"]


class DataStore(Protocol):
    """The part of a `tidings.store.ScheduleStore` that keeps plugins' data (both stores have it)."""

    def data_get(self, namespace: str, key: str) -> dict[str, Any] | None: ...
    def data_put(self, namespace: str, key: str, value: Mapping[str, Any], *, new: bool = False,
                 ttl: timedelta | None = None) -> bool: ...
    def data_delete(self, namespace: str, key: str) -> bool: ...
    def data_append(self, namespace: str, name: str, item: str) -> None: ...
    def data_items(self, namespace: str, name: str) -> list[str]: ...
    def data_remove(self, namespace: str, name: str, item: str) -> bool: ...

_NAMESPACE = re.compile(r"[a-z0-9][a-z0-9_-]*")


def check_namespace(namespace: str) -> str:
    """`namespace` if it can name a plugin's data (lower-case letters, digits, ``-`` and ``_``).

    Raises:
        ValueError: naming the namespace.
    """
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"{namespace!r} cannot name a plugin's data: use lower-case letters, digits, '-' and '_'")
    return namespace


@frozen
class PluginData:
    """One plugin's namespace in a schedule store: JSON values by key, and lists of strings by name.

    Example::

        data = PluginData(store, "manual")
        if data.put(key, {"text": "..."}, new=True):   # False: queued before
            data.append("queued", key)
    """

    store: DataStore
    namespace: str = field(converter=check_namespace)

    def get(self, key: str) -> dict[str, Any] | None:
        """The value under `key`, or None."""
        return self.store.data_get(self.namespace, key)

    def put(self, key: str, value: Mapping[str, Any], *, new: bool = False, ttl: timedelta | None = None) -> bool:
        """Write `value` under `key` (with `new`, only if nothing is there); False when `new` found one.

        Args:
            ttl: forget the value after this long (None: keep it).
        """
        return self.store.data_put(self.namespace, key, value, new=new, ttl=ttl)

    def delete(self, key: str) -> bool:
        """Forget the value under `key`; False when there was none."""
        return self.store.data_delete(self.namespace, key)

    def append(self, name: str, item: str) -> None:
        """Add `item` at the end of the list `name`."""
        self.store.data_append(self.namespace, name, item)

    def items(self, name: str) -> list[str]:
        """The list `name`, oldest first (empty when there is none)."""
        return self.store.data_items(self.namespace, name)

    def remove(self, name: str, item: str) -> bool:
        """Take every `item` out of the list `name`; False when it was not there."""
        return self.store.data_remove(self.namespace, name, item)
