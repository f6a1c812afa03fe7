"""The webhook address of a contact: whom the host's task or message is for.

It is the contact's ``addresses.webhook`` when the host gives one (a CRM's own user id, say),
else the contact's ``id``: the webhook reaches the host, and the host knows its people. A
contact with neither has no address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tidings.plugin_types import NoAddress

if TYPE_CHECKING:
    from tidings.models import Contact

CHANNEL = "webhook"
NO_ID = "no_id"   # why a contact has no address: neither addresses.webhook nor an id


def webhook_addresses(contact: Contact, settings: Any) -> tuple[str, ...]:
    """The channel's `addresses`: ``addresses.webhook``, else the contact's id, else `NoAddress` saying why."""
    found = (contact.addresses.get(CHANNEL) or "").strip() or contact.id.strip()
    return (found,) if found else NoAddress(NO_ID)
