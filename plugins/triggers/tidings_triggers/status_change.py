"""status-change: a message when a subject is created, changes status or is rescheduled (PRODUCT §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from attrs import field, frozen, validators

from tidings import STATUSES, Send, TemplateTexts, Trigger, hookimpl
from tidings.models import VERBS
from tidings_triggers.common import names
from tidings_triggers.texts import default_texts

if TYPE_CHECKING:
    from tidings.config import Rule
    from tidings.models import Event
    from tidings.plugin_types import History, Intent


@frozen
class StatusChangeRule:
    """The keys of a status-change rule."""

    on: str = field(validator=validators.in_(VERBS))
    to: tuple[str, ...] | None = field(default=None, converter=lambda v: None if v is None else names(v),
                                       metadata={STATUSES: True})
    from_: tuple[str, ...] | None = field(default=None, converter=lambda v: None if v is None else names(v),
                                          metadata={STATUSES: True})


def plan(event: Event, rule: Rule, history: History) -> Iterator[Intent]:
    """One message per matching event, at its time (the core adds the rule's delay)."""
    options: StatusChangeRule = rule.options
    if event.verb != options.on:
        return
    if options.to is not None and event.subject.status not in options.to:
        return
    previous = event.previous.status if event.previous else None
    if options.from_ is not None and previous not in options.from_:
        return
    # each event is its own intent: two quick changes are two messages, not one replacing the other, and an
    # event arriving after a later one is still told (a "created" confirmation after the reschedule; its
    # text is rendered from the latest snapshot when it is sent)
    yield Send(due=event.occurred_at, scope=f"event:{event.id}", reason=event.type)


@hookimpl
def tidings_triggers() -> Iterator[Trigger]:
    yield Trigger(name="status-change", summary="A message when a visit, order or lead is created, changes status or moves",
                  rule_type=StatusChangeRule, default_template="status-change", plan=plan)


@hookimpl
def tidings_template_texts() -> Iterator[TemplateTexts]:
    yield from default_texts("status-change")
