"""The MIME message of one e-mail, built without a server."""

from __future__ import annotations

import functools
import io
import itertools
import re
from collections.abc import Callable
from datetime import datetime
from email import message_from_bytes, policy
from email.generator import BytesGenerator
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tidings.errors import PermanentDeliveryError
from tidings.plugin_types import RenderedMessage
from tidings_email.addresses import Mailbox
from tidings_email.mime import build_message, message_id

SENDER = Mailbox.parse("Salon Oła <hello@salon.example>")
WHEN = datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("Europe/Warsaw"))

MakeMessage = Callable[..., RenderedMessage]


def test_the_message_id_is_derived_from_the_idempotency_key_only() -> None:
    assert message_id("key-1", "salon.example") == message_id("key-1", "salon.example")
    assert message_id("key-1", "salon.example") != message_id("key-2", "salon.example")
    assert message_id("key-1", "salon.example").startswith("<") and message_id("key-1", "salon.example").endswith(
        "@salon.example>")


def test_date_is_written_in_utc_and_the_message_id_defaults_to_the_sender_domain(make_message: MakeMessage) -> None:
    email = build_message(make_message(), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert str(email["Date"]) == "Tue, 10 Mar 2026 13:00:00 +0000"
    assert str(email["Message-ID"]) == message_id("key-1", "salon.example")


def test_the_message_carries_its_language_and_says_it_was_sent_automatically(make_message: MakeMessage) -> None:
    email = build_message(make_message(locale="pl"), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert str(email["Content-Language"]) == "pl"
    assert str(email["Auto-Submitted"]) == "auto-generated"


def test_non_ascii_names_and_domains_are_encoded_for_smtp(make_message: MakeMessage) -> None:
    email = build_message(make_message(to="ola@łódź.example.com", name="Żak, Oła"), sender=SENDER,
                          idempotency_key="key-1", date=WHEN)

    wire = email.as_bytes()
    assert wire.isascii()
    assert b"<ola@xn--d-uga0v4h.example.com>" in wire
    assert email["To"].addresses[0].display_name == "Żak, Oła"
    assert email["From"].addresses[0].display_name == "Salon Oła"


def test_a_message_with_only_an_html_body_is_a_single_html_part(make_message: MakeMessage) -> None:
    email = build_message(make_message(text=""), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert email.get_content_type() == "text/html"


def test_a_message_with_no_body_at_all_is_refused(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(text="", html=""), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "empty_message"


@pytest.mark.parametrize(("overrides", "header"), [
    ({"subject": "Hi\nBcc: victim@example.com"}, "Subject"),
    ({"subject": "Hi\rBcc: victim@example.com"}, "Subject"),
    ({"subject": "Hi\u2028Bcc: victim@example.com"}, "Subject"),
    ({"name": "Anna\r\nBcc: victim@example.com"}, "To"),
    ({"to": "anna@example.com\nBcc: victim@example.com"}, "To"),
    ({"locale": "pl\nBcc: victim@example.com"}, "Content-Language"),
])
def test_a_line_break_in_any_header_value_is_a_header_injection(
        make_message: MakeMessage, overrides: dict[str, str], header: str) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(**overrides), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "header_injection"
    assert refused.value.details == {"header": header}


def test_a_line_break_in_the_idempotency_key_is_a_header_injection(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(), sender=SENDER, idempotency_key="key\r\nBcc: x@example.com", date=WHEN)

    assert refused.value.reason == "header_injection"


def test_an_invalid_recipient_address_is_refused_as_invalid(make_message: MakeMessage) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        build_message(make_message(to="not-an-address"), sender=SENDER, idempotency_key="key-1", date=WHEN)

    assert refused.value.reason == "invalid_address"


# ------------------------------------------------------------------ built-in subjects on the wire


def wire(email: Any) -> bytes:
    """The message as ``smtplib.SMTP.send_message`` puts it on the wire (without SMTPUTF8)."""
    out = io.BytesIO()
    BytesGenerator(out).flatten(email, linesep="\r\n")
    return out.getvalue()


def parsed(data: bytes) -> EmailMessage:
    found = message_from_bytes(data.replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(found, EmailMessage)
    return found


# the keys each trigger's rules need; none of them changes what the texts say
TRIGGER_RULES = {"status-change": {"on": "status_changed"}, "pre-visit": {"before": "24h"}, "post-visit": {"after": "1h"},
                 "repeat-visit": {"after": "3w", "categories": ["hair"]}}


@functools.cache
def builtin_subjects() -> dict[tuple[str, str], set[str]]:
    """Every subject the built-in texts render: per (template, locale), for every situation the texts tell apart.

    The texts are not listed here: whatever built-in texts the enabled triggers register are rendered,
    for every kind and verb of event, every status (the appointment statuses, and every word the texts'
    own sources compare a status with), client and staff recipients, and a visit in every month.
    """
    from tidings.deployment import Deployment
    from tidings.models import APPOINTMENT_STATUSES, KINDS, VERBS, Event
    from tidings.templates import sample_context

    triggers = list(TRIGGER_RULES)
    deployment = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["email"], "triggers": triggers},
        "locations": {"old-town": {"name": "Salon Piękności Stare Miasto", "address": "Rynek Starego Miasta 1",
                                   "timezone": "Europe/Warsaw"}},
        "rules": [{"id": f"{trigger}-{recipient}", "trigger": trigger, "channel": "email", "recipient": recipient,
                   **TRIGGER_RULES[trigger]} for trigger in triggers for recipient in ("client", "staff")]})
    config, registry, templates = deployment.config, deployment.registry, deployment.templates
    texts = [t for t in registry.texts if "title" in t.texts]   # the e-mail's subject has the role "title"
    assert texts, "no built-in e-mail texts are registered"
    by_template = {registry.triggers[t].default_template: t for t in triggers}
    assert {t.name for t in texts} <= set(by_template), "a built-in text no trigger uses would go untested"
    words = {w for t in texts for w in re.findall(r"""["']([a-z][a-z_]*)["']""", t.texts["title"])}
    statuses = {"appointment": set(APPOINTMENT_STATUSES)}
    for kind in KINDS:
        statuses.setdefault(kind, words | {"new"})
    subjects: dict[tuple[str, str], set[str]] = {}
    for text in texts:
        trigger = by_template[text.name]
        # every situation in March, and the usual ones in every month (month names differ in length)
        situations = [(recipient, kind, verb, status, 3) for recipient, kind, verb in
                      itertools.product(("client", "staff"), KINDS, VERBS) for status in sorted(statuses[kind])]
        situations += [(recipient, "appointment", verb, "confirmed", month) for recipient, verb, month in
                       itertools.product(("client", "staff"), VERBS, range(1, 13))]
        for recipient, kind, verb, status, month in situations:
            start = f"2026-{month:02d}-10T14:00:00+01:00"
            subject = {"id": "a-1", "status": status, "start": start, "location": "old-town",
                       "services": [{"id": "s-1", "name": "Koloryzacja włosów", "category": "hair"},
                                    {"id": "s-2", "name": "Manicure hybrydowy", "category": "nails"}],
                       "staff": {"id": "s-1", "name": "Anna Kowalska-Wiśniewska"},
                       "client": {"id": "c-1", "name": "Aleksandra Brzęczyszczykiewicz", "locale": text.locale}}
            previous = {"status": "pending" if status != "pending" else "confirmed",
                        "start": f"2026-{month:02d}-09T12:00:00+01:00"}
            event = Event.from_dict({"id": "e-1", "type": f"{kind}.{verb}", "occurred_at": "2026-01-01T10:00:00+01:00",
                                     "subject": subject, "previous": previous})
            rule = config.rule(f"{trigger}-{recipient}")
            context = sample_context(deployment, rule, event=event, locale=text.locale)
            rendered = templates.render(rule=rule, channel="email", parts=("subject",), context=context,
                                        locale=text.locale)
            subjects.setdefault((text.name, text.locale), set()).add(rendered["subject"])
    return subjects


def test_every_builtin_subject_arrives_as_it_was_rendered(make_message: MakeMessage) -> None:
    # Given every subject the built-in texts can render
    wrong = []
    for (template, locale), subjects in sorted(builtin_subjects().items()):
        for subject in sorted(subjects):
            # When it is built into a message and serialised as smtplib sends it
            data = wire(build_message(make_message(subject=subject, locale=locale), sender=SENDER,
                                      idempotency_key="key-1", date=WHEN))
            # Then the stdlib parser reads back exactly what was rendered, from lines of at most 78 characters
            head = data.split(b"\r\n\r\n")[0]
            if str(parsed(data)["Subject"]) != subject or any(len(line) > 78 for line in head.split(b"\r\n")[2:]):
                wrong.append(f"{template} {locale}: {subject!r} arrived as {str(parsed(data)['Subject'])!r}")
    assert wrong == []


def test_the_builtin_subjects_cover_long_non_ascii_ones_and_every_locale() -> None:
    # the test above is worth something only if some subjects need encoding and folding
    subjects = builtin_subjects()
    assert {"en", "pl", "uk", "ru", "it"} <= {locale for _, locale in subjects}
    long_ones = [s for group in subjects.values() for s in group if not s.isascii() and len(s.encode()) > 45]
    assert len(long_ones) > 20
