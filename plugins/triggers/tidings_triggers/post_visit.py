"""post-visit: one message a set time after a visit ends in a status, such as a review request (PRODUCT §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from attrs import field, frozen

from tidings import STATUSES, Drop, Send, TemplateTexts, Trigger, hookimpl
from tidings.durations import Duration
from tidings_triggers.common import became
from tidings_triggers.texts import default_texts

if TYPE_CHECKING:
    from tidings.config import Rule
    from tidings.models import Event, Subject
    from tidings.plugin_types import History, Intent, Pending


@frozen
class PostVisitRule:
    """The keys of a post-visit rule."""

    after: Duration                  # "0h" is allowed: a thank-you the moment the visit is completed
    on_status: str = field(default="completed", metadata={STATUSES: True})


def plan(event: Event, rule: Rule, history: History) -> Iterator[Intent]:
    """Schedule when the status is reached; drop when it moves away before the message went."""
    options: PostVisitRule = rule.options
    latest = history.newer_snapshot(event)
    if latest is not None:
        # an older event arriving late: its change of status still counts while the visit is in that status
        # (the core keeps a message a later event planned); anything else is the later event's to decide
        if became(event, options.on_status) and latest.status == options.on_status:
            zone = history.zone(latest.location)
            yield Send(due=options.after.after(event.occurred_at, zone), reason=f"became_{options.on_status}")
        return
    if became(event, options.on_status):
        zone = history.zone(event.subject.location)
        yield Send(due=options.after.after(event.occurred_at, zone), reason=f"became_{options.on_status}")
    elif event.subject.status != options.on_status:
        yield Drop(reason=f"status_{event.subject.status}")


def still_due(subject: Subject, rule: Rule, pending: Pending) -> str | None:
    return None if subject.status == rule.options.on_status else f"status_{subject.status}"


@hookimpl
def tidings_triggers() -> Iterator[Trigger]:
    yield Trigger(name="post-visit", summary="One message a set time after a visit is completed (a review request, a thank you)",
                  rule_type=PostVisitRule, default_template="post-visit", plan=plan, still_due=still_due)


@hookimpl
def tidings_template_texts() -> Iterator[TemplateTexts]:
    yield from default_texts("post-visit")
