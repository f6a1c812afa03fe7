"""The triggers' built-in texts: every trigger × locale × channel part renders, in its language, with its facts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tidings.config import parse_config
from tidings.models import Event
from tidings.templates import Templates, sample_context
from tidings_sms.segments import segment_info
from tidings_triggers.texts import LOCALES, default_texts

TRIGGERS = ("status-change", "pre-visit", "post-visit", "repeat-visit")
PARTS = {"sms": ("text",), "email": ("subject", "text", "html"), "push": ("title", "body")}
RULES = {
    "status-change": {"on": "status_changed"},
    "pre-visit": {"before": "24h"},
    "post-visit": {"after": "1h"},
    "repeat-visit": {"after": "3w", "categories": ["nails"]},
}


def language_of(text: str) -> str:
    """The language a text is written in, told by its script, its letters and its most common words."""
    if re.search(r"[іїєґІЇЄ]", text):
        return "uk"
    if re.search(r"[а-яё]", text, re.IGNORECASE):
        return "ru"
    if re.search(r"\b(Dzie[nń]|wizyt\w*|Czas|Jak|Przypomin\w*|Do zobaczenia)\b", text):
        return "pl"
    if re.search(r"\b(Sua|Suo|Le|Buongiorno|Grazie|appuntamento|prossimo)\b", text):
        return "it"
    if re.search(r"\b(your|you|Thank|visit)\b", text, re.IGNORECASE):
        return "en"
    return "?"


def config(recipient: str = "client") -> Any:
    return parse_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms", "email", "push"], "triggers": list(TRIGGERS)},
        "locations": {"old-town": {"name": "Old Town", "address": "Rynek 1", "timezone": "Europe/Warsaw"}},
        "rules": [{"id": trigger, "trigger": trigger, "channel": "sms", "recipient": recipient, **RULES[trigger]}
                  for trigger in TRIGGERS]})


CONFIG = config()
TEMPLATES = Templates.from_config(CONFIG)


def event(**subject: Any) -> Event:
    base: dict[str, Any] = {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                            "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                            "staff": {"id": "s-1", "name": "Anna Kowalska"},
                            "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48600100200", "locale": "en"}}
    kind = subject.pop("kind", "appointment")
    verb = subject.pop("verb", "status_changed")
    previous = subject.pop("previous", {"status": "pending"})
    return Event.from_dict({"id": "e-1", "type": f"{kind}.{verb}", "occurred_at": "2026-03-01T10:00:00+01:00",
                            "subject": {**base, **subject}, "previous": previous})


def render(trigger: str, channel: str, locale: str = "en", *, cfg: Any = CONFIG, templates: Templates = TEMPLATES,
           ev: Event | None = None) -> dict[str, str]:
    rule = cfg.rule(trigger)
    context = sample_context(cfg, rule, event=ev or event(), locale=locale)
    return templates.render(rule=rule, channel=channel, parts=PARTS[channel], context=context, locale=locale)


def test_every_trigger_has_texts_in_five_locales_for_every_channel_part() -> None:
    for trigger in TRIGGERS:
        texts = default_texts(trigger)
        assert [t.locale for t in texts] == list(LOCALES) == ["en", "pl", "uk", "ru", "it"]
        for t in texts:
            assert {channel: tuple(parts) for channel, parts in t.channels.items()} == PARTS
    assert default_texts("birthday") == ()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("channel", PARTS)
def test_each_text_renders_in_its_language_with_the_client_and_the_facts(trigger: str, locale: str, channel: str) -> None:
    parts = render(trigger, channel, locale)
    assert set(parts) == set(PARTS[channel]) and all(parts.values())
    whole = " ".join(parts.values())
    assert "{{" not in whole and "{%" not in whole
    assert language_of(whole) == locale, whole
    if channel != "push":   # push is short: no greeting
        assert "Ola Nowak" in whole
    if trigger != "post-visit":
        assert "Manicure" in whole
    if trigger in ("status-change", "pre-visit"):
        assert ("2:00 PM" if locale == "en" else "14:00") in whole


@pytest.mark.parametrize("trigger", ["status-change", "pre-visit"])
def test_english_and_italian_sms_fit_one_gsm7_segment(trigger: str) -> None:
    for locale in ("en", "it", "pl"):
        info = segment_info(render(trigger, "sms", locale)["text"])
        assert (info.encoding, info.segments) == ("GSM-7", 1), (locale, info)


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_ukrainian_and_russian_sms_fit_one_ucs2_segment(trigger: str) -> None:
    for locale in ("uk", "ru"):
        info = segment_info(render(trigger, "sms", locale)["text"])
        assert (info.encoding, info.segments) == ("UCS-2", 1), (locale, info)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"verb": "created", "status": "pending"}, "we have received your booking request"),
    ({"status": "confirmed"}, "is confirmed"),
    ({"status": "cancelled", "previous": {"status": "confirmed"}}, "has been cancelled"),
    ({"status": "rejected", "previous": {"status": "pending"}}, "can't accept your booking"),
    ({"status": "completed", "previous": {"status": "confirmed"}}, "thank you for your visit"),
    ({"status": "no_show", "previous": {"status": "confirmed"}}, "we missed you"),
    ({"verb": "rescheduled", "previous": {"start": "2026-03-09T12:00:00+01:00"}}, "has been moved to Mar 10, 2026, 2:00 PM"),
    ({"kind": "order", "verb": "created", "status": "new", "start": None}, "we have received your order a-1"),
    ({"kind": "order", "status": "ready_for_pickup", "start": None, "previous": {"status": "in_repair"}}, "is ready for pickup at Old Town"),
    ({"kind": "order", "status": "waiting_for_parts", "start": None, "previous": {"status": "new"}}, "is now: waiting for parts"),
    ({"kind": "lead", "verb": "created", "status": "new", "start": None, "services": []}, "thank you for your enquiry"),
])
def test_status_change_says_what_happened(changes: dict[str, Any], expected: str) -> None:
    text = render("status-change", "sms", ev=event(**changes))["text"]
    assert expected in text, text


def test_a_rescheduled_email_names_the_old_and_the_new_time() -> None:
    parts = render("status-change", "email", ev=event(verb="rescheduled", previous={"start": "2026-03-09T12:00:00+01:00"}))
    assert "from Mar 9, 2026, 12:00 PM to Mar 10, 2026, 2:00 PM" in parts["text"]


def test_staff_get_a_notice_naming_the_client() -> None:
    cfg = config("staff")
    templates = Templates.from_config(cfg)
    sms = render("status-change", "sms", cfg=cfg, templates=templates, ev=event(verb="created"))["text"]
    assert sms.startswith("New booking: Ola Nowak for Manicure on Mar 10, 2026, 2:00 PM")
    upcoming = render("pre-visit", "sms", cfg=cfg, templates=templates)["text"]
    assert upcoming.startswith("Upcoming: Ola Nowak")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_texts_render_without_the_optional_fields(trigger: str, locale: str) -> None:
    bare = event(start=None, services=[], staff=None, location=None, previous={"status": "pending"},
                 client={"id": "c-1", "phone": "+48600100200"})
    for channel in PARTS:
        whole = " ".join(render(trigger, channel, locale, ev=bare).values())
        assert "None" not in whole and "()" not in whole and " ," not in whole and " ." not in whole, whole


def test_html_is_escaped_but_sms_is_not() -> None:
    ev = event(client={"id": "c-1", "name": "Tom & <Jerry>", "email": "t@example.com"})
    assert "Tom & <Jerry>" in render("pre-visit", "sms", ev=ev)["text"]
    email = render("pre-visit", "email", ev=ev)
    assert "Tom & <Jerry>" in email["text"] and "Tom &amp; &lt;Jerry&gt;" in email["html"]


def test_a_review_link_from_data_is_included_when_given() -> None:
    ev = event(status="completed", data={"review_url": "https://g.page/r/salon"})
    assert "https://g.page/r/salon" in render("post-visit", "sms", ev=ev)["text"]
