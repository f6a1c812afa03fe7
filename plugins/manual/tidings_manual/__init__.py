"""tidings-manual: messages queued for staff to send by hand, with one-tap links (DIKIDI's "manual notifications").

The host (or staff, through ``tidings manual list``) reads the queue per location with
`ManualQueue`; each message carries links that open it ready to send in WhatsApp, the phone's
messaging app or the mail app; ``done`` records it as sent in the delivery log, and messages
nobody sent in time expire with the reason ``expired``.
"""

from __future__ import annotations

from tidings_manual.links import one_tap_links
from tidings_manual.queue import ManualError, ManualQueue, QueuedMessage

__all__ = ["ManualError", "ManualQueue", "QueuedMessage", "one_tap_links"]
