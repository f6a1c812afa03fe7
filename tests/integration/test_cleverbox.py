"""The CleverBOX repeat-visit flow end to end: a CRM task for staff instead of a message to the client.

CleverBOX does not invite a client back itself: six weeks after a colouring it gives an
administrator a task to call the client, cancels the task when the client books another
colouring, and brings it back when that booking is cancelled. In tidings that is one
repeat-visit rule (PRODUCT §5) with ``recipient = "staff"`` on the webhook channel. The flow runs
twice on the same events: in ``tidings simulate`` (what the deployer sees, with ``--explain``),
and in the real pipeline on a virtual clock, delivering through the real webhook transport to a
local CRM endpoint that verifies every request with the ``standardwebhooks`` package.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.models import Event
from tidings.simulate import simulate
from tidings.testing import LocalHttpService, Reply, Request, StubPipeline, registry_for

import tidings_webhook.plugin

WARSAW = ZoneInfo("Europe/Warsaw")
SECRET = "whsec_" + base64.b64encode(b"cleverbox-crm-signing-key-32-byt").decode()
DUE = datetime(2026, 4, 21, 10, 0, tzinfo=WARSAW)     # the colouring's start + 6 weeks, in Warsaw (summer time)


def config(url: str) -> dict[str, Any]:
    return {
        "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
        "plugins": {"channels": ["webhook"], "triggers": ["repeat-visit"]},
        "locations": {"old-town": {"name": "Old Town", "address": "Rynek 1, Kraków", "timezone": "Europe/Warsaw"}},
        "channels": {"webhook": {"url": url, "secret": SECRET, "event_type": "crm.task", "timeout": 5.0}},
        "rules": [{"id": "colour-call-back", "trigger": "repeat-visit", "categories": ["colouring"], "after": "6w",
                   "recipient": "staff", "channel": "webhook", "template": "call-back"}],
        "templates": {"call-back": {"webhook": {
            "title": "Call {{ client.name }}: {{ (services | first).name }} is due",
            "text": "{{ client.name }} ({{ client.phone }}) had {{ (services | first).name }} on "
                    "{{ subject.start | date }} at {{ location.name }}. Offer the next visit."}}},
    }


def event(n: int, verb: str, at: str, visit: str, status: str, start: str, *, category: str = "colouring",
          previous: str | None = None) -> dict[str, Any]:
    service = {"id": "colour", "name": "Hair colouring", "category": "colouring"} if category == "colouring" \
        else {"id": "mani", "name": "Manicure", "category": category}
    found: dict[str, Any] = {
        "id": f"evt-{n}", "type": f"appointment.{verb}", "occurred_at": at,
        "subject": {"id": visit, "status": status, "start": start, "location": "old-town", "services": [service],
                    "staff": {"id": "s-anna", "name": "Anna Kowalska"},
                    "client": {"id": "c-ola", "name": "Ola Nowak", "phone": "+48600100200", "consents": {}}}}
    if previous is not None:
        found["previous"] = {"status": previous}
    return found


# a colouring, done; a manicure booked (another category: no effect); another colouring booked, then cancelled
EVENTS = [
    event(1, "created", "2026-03-02T09:00:00+01:00", "a-1", "confirmed", "2026-03-10T10:00:00+01:00"),
    event(2, "status_changed", "2026-03-10T11:30:00+01:00", "a-1", "completed", "2026-03-10T10:00:00+01:00",
          previous="confirmed"),
    event(3, "created", "2026-03-20T12:00:00+01:00", "a-2", "confirmed", "2026-04-02T15:00:00+02:00",
          category="nails"),
    event(4, "created", "2026-04-01T12:00:00+02:00", "a-3", "confirmed", "2026-04-24T10:00:00+02:00"),
    event(5, "status_changed", "2026-04-14T09:00:00+02:00", "a-3", "cancelled", "2026-04-24T10:00:00+02:00",
          previous="confirmed"),
]
# instead of the cancellation, the client comes to the booked colouring: a new cycle
CAME_BACK = event(5, "status_changed", "2026-04-24T11:30:00+02:00", "a-3", "completed", "2026-04-24T10:00:00+02:00",
                  previous="confirmed")


class Crm(LocalHttpService):
    """A CRM's webhook endpoint: verifies with standardwebhooks, creates one task per webhook-id."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.refused: list[str] = []

    def respond(self, request: Request) -> Reply:
        try:
            payload = Webhook(SECRET).verify(request.body, dict(request.headers))
        except WebhookVerificationError as e:
            self.refused.append(str(e))
            return Reply(401)
        self.tasks.setdefault(request.headers["webhook-id"], payload)
        return Reply(201, {"id": f"task-{len(self.tasks)}"})


@pytest.fixture
def crm(start_service: Callable[[Crm], Crm]) -> Crm:
    return start_service(Crm())


def explained(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return simulate(Deployment.from_config(config("https://crm.example/hooks")), [json.dumps(e) for e in events],
                    explain=True, errors=io.StringIO())


def test_simulate_shows_the_task_suspended_by_the_colouring_booking_and_restored_by_its_cancellation() -> None:
    records = explained(EVENTS)
    assert [(r["at"], r.get("status", "sent"), r["subject"], r.get("reason"), r.get("due")) for r in records] == [
        ("2026-03-10T10:30:00Z", "scheduled", "a-1", "visit_completed", "2026-04-21T08:00:00Z"),   # start + 6 weeks
        ("2026-04-01T10:00:00Z", "suspended", "a-1", "booked_a-3", None),     # the manicure (a-2) did not suspend it
        ("2026-04-14T07:00:00Z", "restored", "a-1", "booking_cancelled", "2026-04-21T08:00:00Z"),   # its own time
        ("2026-04-21T08:00:00Z", "sent", "a-1", None, None),
    ]
    sent = records[-1]
    assert (sent["rule"], sent["channel"], sent["to"], sent["client"]) == ("colour-call-back", "webhook", "s-anna", "c-ola")
    assert sent["title"] == "Call Ola Nowak: Hair colouring is due"


def test_simulate_sends_no_task_while_the_client_is_booked_and_starts_a_new_cycle_when_they_come() -> None:
    records = explained([*EVENTS[:4], CAME_BACK])
    assert [(r["at"], r.get("status", "sent"), r["subject"], r.get("reason")) for r in records] == [
        ("2026-03-10T10:30:00Z", "scheduled", "a-1", "visit_completed"),
        ("2026-04-01T10:00:00Z", "suspended", "a-1", "booked_a-3"),          # 21 April passes without a task
        ("2026-04-24T09:30:00Z", "rescheduled", "a-3", "visit_completed"),   # the new colouring's cycle replaces it
        ("2026-06-05T08:00:00Z", "sent", "a-3", None),
    ]


@pytest.fixture
def pipeline(crm: Crm, start_pipeline: Callable[..., StubPipeline]) -> StubPipeline:
    """The real pipeline with the real webhook transport, on a virtual clock before the first event."""
    deployed = Deployment.from_config(config(f"{crm.url}/hooks/tidings"))
    webhook = registry_for(tidings_webhook.plugin).channels["webhook"].connect(deployed.config.channels["webhook"])
    clock = VirtualClock(datetime(2026, 3, 2, 8, 0, tzinfo=WARSAW))
    return start_pipeline(deployed, transports={"webhook": webhook}, clock=clock)


def publish(stub: StubPipeline, raw: dict[str, Any]) -> None:
    """Everything due before the event, then the event at its time, as simulate feeds them."""
    at = Event.from_dict(raw).occurred_at
    stub.run(until=at)
    stub.publish(raw)


def test_the_real_pipeline_delivers_one_signed_task_for_staff_6_weeks_after_the_colouring(
        pipeline: StubPipeline, crm: Crm) -> None:
    for raw in EVENTS[:4]:
        publish(pipeline, raw)
    pipeline.run(until=datetime(2026, 4, 13, 12, 0, tzinfo=WARSAW))
    assert crm.requests == []                                          # the client has booked: suspended
    publish(pipeline, EVENTS[4])                                       # that booking is cancelled: restored
    pipeline.run(until=datetime(2026, 4, 21, 9, 59, tzinfo=WARSAW))
    assert crm.requests == []                                          # not before its time
    pipeline.run(until=DUE)
    assert crm.refused == [] and len(crm.requests) == 1                # standardwebhooks verified the signature
    [(webhook_id, task)] = crm.tasks.items()
    assert task["type"] == "crm.task"
    data = task["data"]
    assert data["idempotency_key"] == webhook_id
    assert (data["rule"]["id"], data["rule"]["trigger"], data["rule"]["recipient"]) == (
        "colour-call-back", "repeat-visit", "staff")
    assert data["recipient"]["id"] == "s-anna" and data["recipient"]["role"] == "staff"
    assert (data["client"]["name"], data["client"]["phone"]) == ("Ola Nowak", "+48600100200")
    assert data["subject"]["id"] == "a-1" and data["services"] == [
        {"id": "colour", "name": "Hair colouring", "category": "colouring"}]
    assert datetime.fromisoformat(data["due"]) == DUE and data["due"].endswith("+02:00")
    assert data["parts"] == {"title": "Call Ola Nowak: Hair colouring is due",
                             "text": "Ola Nowak (+48600100200) had Hair colouring on Mar 10, 2026 at Old Town. "
                                     "Offer the next visit."}
    sent = [e for e in pipeline.pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert [(e["channel"], e["to"], e["key"], e["provider_id"]) for e in sent] == [("webhook", "s-anna", webhook_id, "task-1")]
    pipeline.run(until=datetime(2026, 6, 1, 9, 0, tzinfo=WARSAW))      # nothing more: one task per cycle
    assert len(crm.requests) == 1
