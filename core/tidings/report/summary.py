"""What a simulation did, counted: messages per rule and channel, skips per reason, and the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

if TYPE_CHECKING:
    from tidings.config import Config
    from tidings.simulate import Run

__all__ = ["CHANGES", "Summary"]

# the statuses of planning records (simulate --explain), in the order a message lives through them
CHANGES = ("scheduled", "rescheduled", "suspended", "restored", "dropped")


def _ordered(found: Iterable[str], preferred: Sequence[str]) -> tuple[str, ...]:
    seen = set(found)
    return (*[p for p in preferred if p in seen], *sorted(seen - set(preferred)))


@frozen
class Summary:
    """Counts of one run, from simulate's output records (those of ``--explain`` included)."""

    events: int
    rejected: int
    sent: Mapping[tuple[str, str], int]        # (rule, channel) -> messages (queued for staff included)
    skipped: Mapping[str, int]                 # reason -> messages not sent
    failed: Mapping[str, int]                  # reason -> messages that failed
    changes: Mapping[str, int]                 # scheduled, rescheduled, ... -> records
    rules: tuple[str, ...] = field(default=())     # the rules in the configuration's order
    channels: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, records: Iterable[Mapping[str, Any]], *, events: int, rejected: int,
           rules: Sequence[str] = (), channels: Sequence[str] = ()) -> Summary:
        """Count output records; a record without ``status`` is a sent message (PRODUCT §9).

        A message queued for staff to send (``status = "queued"``, the manual channel) counts as its
        channel's message: the channel took it, and its column says who sends it.
        """
        sent: Counter[tuple[str, str]] = Counter()
        skipped: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        changes: Counter[str] = Counter()
        for record in records:
            status = record.get("status", "sent")
            if status in ("sent", "queued"):
                sent[(record["rule"], record["channel"])] += 1
            elif status == "skipped":
                skipped[record.get("reason") or "unknown"] += 1
            elif status == "failed":
                failed[record.get("reason") or "unknown"] += 1
            else:
                changes[status] += 1
        return cls(events=events, rejected=rejected, sent=dict(sent), skipped=dict(skipped), failed=dict(failed),
                   changes=dict(changes),
                   rules=_ordered((r for r, _ in sent), rules),
                   channels=_ordered((c for _, c in sent), channels))

    @classmethod
    def of_run(cls, run: Run, config: Config) -> Summary:
        """The counts of a run, its rules and channels in the configuration's order."""
        return cls.of(run.records(explain=True), events=len(run.events), rejected=run.rejected,
                      rules=[r.id for r in config.rules], channels=config.plugins.channels)

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())

    def by_rule(self) -> dict[str, int]:
        """Messages sent per rule, in the configuration's order."""
        return {rule: sum(n for (r, _), n in self.sent.items() if r == rule) for rule in self.rules}

    def by_channel(self) -> dict[str, int]:
        """Messages sent per channel, in the configuration's order."""
        return {channel: sum(n for (_, c), n in self.sent.items() if c == channel) for channel in self.channels}

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data (the report page embeds it)."""
        return {"events": self.events, "rejected": self.rejected, "rules": list(self.rules),
                "channels": list(self.channels),
                "sent": [{"rule": r, "channel": c, "count": n} for (r, c), n in sorted(
                    self.sent.items(), key=lambda item: (self.rules.index(item[0][0]), self.channels.index(item[0][1])))],
                "skipped": _most_first(self.skipped), "failed": _most_first(self.failed),
                "changes": {k: self.changes.get(k, 0) for k in _ordered(self.changes, CHANGES)},
                "total_sent": self.total_sent, "total_skipped": self.total_skipped, "total_failed": self.total_failed}


def _most_first(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"reason": reason, "count": n} for reason, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
