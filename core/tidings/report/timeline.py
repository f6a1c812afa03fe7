"""Per-subject timelines of a simulation: what the host said and what tidings did about it, and why.

A timeline merges a subject's events (booked, confirmed, moved, cancelled, completed) with its
delivery-log records (scheduled, moved, held, restored, dropped, sent, skipped), in the order they
happened, with times in the subject's location zone and reasons in plain words. The terminal
summary shows three eventful clients; the report page shows every subject, searchable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from tidings.config import Config
    from tidings.models import Event
    from tidings.simulate import Run

__all__ = ["Timeline", "interesting", "reason_text", "timelines"]

_SHOWN = ("sent", "queued", "skipped", "suspended", "restored", "rescheduled", "dropped", "failed", "scheduled")

_REASONS = {
    "created": "the visit was booked",
    "rescheduled": "the visit moved",
    "appointment.status_changed": "the status changed",
    "too_late": "too late: the visit is sooner than that",
    "late": "late, sent at once",
    "visit_moved": "the visit moved",
    "visit_completed": "the visit was completed",
    "already_sent": "already sent for this time",
    "no_consent": "no consent for the rule's channels",
    "invalid_address": "no valid address for the rule's channels",
    "no_usable_channel": "no channel of the rule can reach the client",
    "muted": "muted for this booking",
    "rule_disabled": "the rule is disabled",
    "rule_removed": "the rule is gone",
    "template_error": "its template failed",
    "no_channel_delivered": "no channel delivered it",
}


def reason_text(reason: str | None) -> str | None:
    """A record's reason in plain words (`booked_a-17` → "a-17 is booked in the same category")."""
    if reason is None:
        return None
    if reason in _REASONS:
        return _REASONS[reason]
    for prefix, words in (("booked_", "{} is booked in the same category"), ("booking_", "that booking was {}"),
                          ("status_", "the visit was {}"), ("became_", "the visit was {}")):
        if reason.startswith(prefix):
            return words.format(reason[len(prefix):].replace("_", "-" if prefix == "booked_" else " "))
    return reason.replace("_", " ")


def _when(value: str | datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).strftime("%a %d %b %H:%M")


@frozen
class Timeline:
    """One subject's story."""

    subject: str
    client: str | None
    client_name: str
    locale: str | None
    location: str
    location_name: str
    services: str
    items: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "client": self.client, "client_name": self.client_name, "locale": self.locale,
                "location": self.location, "location_name": self.location_name, "services": self.services,
                "items": list(self.items)}


def _event_item(event: Event, zone: ZoneInfo) -> dict[str, Any]:
    subject = event.subject
    services = ", ".join(s.name or s.id for s in subject.services)
    if event.verb == "created":
        what = f"booked {services or 'a visit'} for {_when(subject.start, zone)}" if subject.start else "created"
        what += f" ({subject.status})" if subject.status else ""
    elif event.verb == "rescheduled":
        before = event.previous.start if event.previous else None
        what = f"moved from {_when(before, zone)} to {_when(subject.start, zone)}"
    else:
        what = {"no_show": "marked no-show"}.get(subject.status or "", str(subject.status))
    return {"at": event.occurred_at.isoformat(), "local": _when(event.occurred_at, zone), "kind": "event",
            "rule": None, "event": event.id, "what": what, "why": None}


def _record_item(record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    status, rule = record["status"], record["rule"]
    due = _when(record.get("due"), zone)
    what = {"sent": f"sent by {record.get('channel')} to {record.get('to')}",
            "queued": f"queued by {record.get('channel')} for staff to send to {record.get('to')}",
            "scheduled": f"scheduled for {due}", "rescheduled": f"moved to {due}", "restored": f"restored, due {due}",
            "suspended": "held", "dropped": "dropped", "skipped": "not sent", "failed": "failed"}[status]
    if status == "failed" and record.get("channel"):
        what = f"failed by {record['channel']}"
    item = {"at": record["at"], "local": _when(record["at"], zone), "kind": status, "rule": rule,
            "event": record.get("event"), "what": what, "why": reason_text(record.get("reason"))}
    if status in ("sent", "queued"):
        item.update(channel=record.get("channel"), title=record.get("title"), text=record.get("text"))
    elif record.get("error"):
        item["error"] = record["error"]
    return item


def timelines(run: Run, config: Config) -> list[Timeline]:
    """Every subject's timeline, subjects in the order they first appear."""
    latest: dict[str, Event] = {}
    merged: dict[str, list[tuple[datetime, int, int, dict[str, Any]]]] = defaultdict(list)
    zones: dict[str, ZoneInfo] = {}
    clients: dict[str, str] = {}
    order = 0
    for event in run.events:
        subject = event.subject
        latest[subject.id] = event
        zone = zones.setdefault(subject.id, config.zone(subject.location))
        merged[subject.id].append((_moment(event.occurred_at), 0, order, _event_item(event, zone)))
        order += 1
    for entry in run.entries:
        if entry["status"] not in _SHOWN:
            continue
        subject_id = entry["subject"]
        if entry.get("client"):
            clients.setdefault(subject_id, entry["client"])
        zone = zones.setdefault(subject_id, config.tidings.timezone)
        # an event at T is fed before what falls due at T, so at one instant events come first
        merged[subject_id].append((_moment(entry["at"]), 1, order, _record_item(entry, zone)))
        order += 1
    out = []
    for subject_id, items in merged.items():
        last = latest.get(subject_id)
        snapshot = last.subject if last else None
        client = snapshot.client if snapshot else None
        location = config.location(snapshot.location if snapshot else None)
        out.append(Timeline(
            subject=subject_id, client=client.id if client else clients.get(subject_id), client_name=client.name if client else "",
            locale=client.locale if client else None, location=location.id, location_name=location.name or location.id,
            services=", ".join(s.name or s.id for s in snapshot.services) if snapshot else "",
            items=tuple(item for *_, item in sorted(items, key=lambda x: x[:3]))))
    return out


def _moment(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value

# what makes a client's month worth showing, in the order the summary looks for them
_KINDS = ("moved back and forth", "repeat visit held, then restored", "cancelled")


def _back_and_forth(events: Iterable[Event]) -> bool:
    starts: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if event.subject.start is not None and event.verb in ("created", "rescheduled"):
            starts[event.subject.id].append(event.subject.start.isoformat())
    return any(len(s) > len(set(s)) for s in starts.values())


def interesting(run: Run, *, count: int = 3) -> list[tuple[str, str]]:
    """(client id, why) of the most eventful clients: one moved back and forth, one whose repeat-visit
    invitation was held and restored, one who cancelled, each the busiest of its kind; others by busyness."""
    events: dict[str, list[Event]] = defaultdict(list)
    statuses: dict[str, set[str]] = defaultdict(set)
    busy: dict[str, int] = defaultdict(int)
    for event in run.events:
        if event.subject.client is not None:
            events[event.subject.client.id].append(event)
            busy[event.subject.client.id] += 1
    for entry in run.entries:
        client = entry.get("client")
        if client and entry["status"] in _SHOWN:
            statuses[client].add(entry["status"])
            busy[client] += 1
    kinds: dict[str, Callable[[str], bool]] = {
        _KINDS[0]: lambda c: _back_and_forth(events[c]),
        _KINDS[1]: lambda c: {"suspended", "restored"} <= statuses[c],
        _KINDS[2]: lambda c: any(e.subject.status == "cancelled" for e in events[c]) and "dropped" in statuses[c],
    }
    # clients who were sent something first (one whose every message was refused shows little), then those with
    # the most kinds of thing happening, then the busiest
    ranked = sorted(busy, key=lambda c: ("sent" not in statuses[c], -len(statuses[c]), -busy[c], c))
    chosen: dict[str, str] = {}
    for why, test in kinds.items():
        fits = [c for c in ranked if test(c) and c not in chosen]
        # a client of this kind alone shows it best (a cancellation that also restored an invitation shows two)
        alone = [c for c in fits if not any(other(c) for name, other in kinds.items() if name != why)]
        if (alone or fits) and len(chosen) < count:
            chosen[(alone or fits)[0]] = why
    for client in ranked:
        if len(chosen) >= count:
            break
        chosen.setdefault(client, "busiest")
    return list(chosen.items())
