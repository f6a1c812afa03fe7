"""The keys that make the pipeline idempotent: slots, idempotency keys, and the order of a subject's events.

A *slot* names the one pending message a rule may have for a scope (a subject, or a client for
repeat-visit) and a recipient role: scheduling it again replaces the message, so a moved visit has
one reminder, never two. An *idempotency key* names one intent (rule, subject, recipient, due time):
the same across retries and replans, marked sent once, and handed to providers that take one.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from tidings.idempotency import idempotency_key

if TYPE_CHECKING:
    from tidings.rules import Rule

__all__ = ["event_order", "event_position", "idempotency_key", "slot_key", "slot_of"]


def slot_of(rule_id: str, scope: str, recipient: str) -> str:
    """The slot of a rule's pending message for one scope and recipient role."""
    return f"{rule_id}|{scope}|{recipient}"


def slot_key(rule: Rule, scope: str) -> str:
    """The stable key of one pending message: rule, scope (subject or client) and recipient role."""
    return slot_of(rule.id, scope, rule.recipient)




def event_order(event_type: str, event_id: str) -> str:
    """How events of one subject at the same `occurred_at` are ordered: creation first, then by event id.

    Together with `occurred_at` this gives every pair of events of a subject one order, whichever
    worker takes which first, so the snapshot that wins and the plans that stand are the same.
    """
    return f"{0 if event_type.partition('.')[2] == 'created' else 1}:{event_id}"


def event_position(occurred_at: datetime, event_type: str, event_id: str) -> tuple[datetime, str]:
    """Where an event stands among its subject's events: compare two with ``<``."""
    return occurred_at, event_order(event_type, event_id)

