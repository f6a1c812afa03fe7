"""The idempotency key of one intent, in a module of its own: the pipeline plans with it, and the store works it
out again for a pending message that leaves it out (`tidings.store.records`)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

__all__ = ["idempotency_key"]


def idempotency_key(rule_id: str, subject_id: str, recipient: str, due: datetime) -> str:
    """The key of one intent (rule, subject, recipient, due time): the same across retries and replans."""
    raw = f"{rule_id}|{subject_id}|{recipient}|{due.astimezone(timezone.utc).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]
