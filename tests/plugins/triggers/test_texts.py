"""The triggers' built-in texts: every trigger × locale × channel part renders, in its language, with its facts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tidings.deployment import Deployment
from tidings.models import Event
from tidings.plugin_types import ROLES
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


ADDRESSED_BY_NAME = ("en", "ru", "it")   # Russian addresses by the nominative; English and Italian do not inflect


def transliterated(text: str) -> str:
    """What `[channels.sms] transliterate = true` sends for Polish (PRODUCT §7): letters without their marks."""
    import unicodedata
    text = text.translate(str.maketrans({"ł": "l", "Ł": "L", "„": '"', "”": '"', "–": "-"}))
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def language_of(text: str) -> str:
    """The language a text is written in, told by its script, its letters and its most common words."""
    if re.search(r"[іїєґІЇЄ]", text):
        return "uk"
    if re.search(r"[а-яё]", text, re.IGNORECASE):
        return "ru"
    if re.search(r"\b(Dzie[nń]|wizyt\w*|Czas|Jak|Przypomin\w*|Do zobaczenia)\b", text):
        return "pl"
    if re.search(r"\b(Sua|Suo|Le|Buongiorno|Ciao|Grazie|grazie|tuo|tua|appuntamento|prossimo)\b", text):
        return "it"
    if re.search(r"\b(your|you|Thank|visit)\b", text, re.IGNORECASE):
        return "en"
    return "?"


def config(recipient: str = "client") -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms", "email", "push"], "triggers": list(TRIGGERS)},
        "locations": {"old-town": {"name": "Old Town", "address": "Rynek 1", "timezone": "Europe/Warsaw"}},
        "rules": [{"id": trigger, "trigger": trigger, "channel": "sms", "recipient": recipient, **RULES[trigger]}
                  for trigger in TRIGGERS]})


CONFIG = config()
TEMPLATES = CONFIG.templates


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
    rule = cfg.config.rule(trigger)
    context = sample_context(cfg, rule, event=ev or event(), locale=locale)
    return templates.render(rule=rule, channel=channel, parts=PARTS[channel], context=context, locale=locale)


def test_every_trigger_has_texts_in_five_locales_for_every_channel_part() -> None:
    for trigger in TRIGGERS:
        texts = default_texts(trigger)
        assert [t.locale for t in texts] == list(LOCALES) == ["en", "pl", "uk", "ru", "it"]
        for t in texts:
            # written per part role, so that every channel gets them by its parts' roles
            assert set(t.texts) == set(ROLES) and not t.channels
            for channel, parts in PARTS.items():
                assert tuple(t.for_channel(CONFIG.registry.channels[channel])) == parts
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
        # Polish and Ukrainian would address her in the vocative, which a stored name cannot give: no name
        assert ("Ola Nowak" in whole) is (locale in ADDRESSED_BY_NAME), whole
    if trigger != "post-visit":
        assert "Manicure" in whole
    if trigger in ("status-change", "pre-visit"):
        assert ("2:00 PM" if locale == "en" else "14:00") in whole


@pytest.mark.parametrize("trigger", ["status-change", "pre-visit"])
def test_english_and_italian_sms_fit_one_gsm7_segment(trigger: str) -> None:
    for locale in ("en", "it", "pl"):
        text = render(trigger, "sms", locale)["text"]
        if locale == "pl":   # written with diacritics (UCS-2); one GSM-7 segment once transliterated (PRODUCT §7)
            assert segment_info(text).encoding == "UCS-2"
            text = transliterated(text)
        info = segment_info(text)
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
    templates = cfg.templates
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


# ---------------------------------------------------------------- every text, as a worker renders it
# Every locale × trigger × situation × recipient × channel part, rendered from the context a worker
# builds (no sample placeholders), for a place whose name Polish would inflect, clients whose names
# Polish and Ukrainian would put in the vocative, and a visit at 11:00 in October ("paź", "об 11:00").

PLACE = "Stare Miasto"
NAMES = {"en": "Ola Nowak", "pl": "Ola Nowak", "uk": "Олена Петренко", "ru": "Ольга Смирнова", "it": "Andrea Rossi"}
VOCATIVES = {"pl": ("Olu", "Olo"), "uk": ("Олено", "Петренку")}
DATES = {"en": ("Oct 13, 2026, 11:00 AM",), "pl": ("13 października", "o 11:00"), "uk": ("13 жовтня", "об 11:00"),
         "ru": ("13 октября", "в 11:00"), "it": ("martedì 13 ottobre", "alle ore 11:00")}
QUOTES = {"pl": ("„", "”"), "uk": ("«", "»"), "ru": ("«", "»"), "it": ('"', '"')}
ENGLISH_STATUS_WORDS = re.compile(r"\b(pending|confirmed|rejected|cancell?ed|completed|no[ _-]?show|ready|pickup|collection|"
                                  r"processing|progress|repair|delivered|collected|done|new|received|declined|awaiting|"
                                  r"waiting|booking|order|visit|enquiry)\b", re.IGNORECASE)
GENDERED = {"pl": r"\b(Pan|Pani|Panie|Drogi|Droga|Szanown[ya]|byłeś|byłaś|zadowolon[ya])\b",
            "uk": r"(Шановн|Дорог[аи]й?\b|задоволен)", "ru": r"(Уважаем|Дорог(ой|ая)\b|довол(ен|ьна)\b)",
            "it": r"\b(Car[oa]|Signor[ae]?|Sig\.|[Bb]envenut[oa]|content[oa]|soddisfatt[oa]|vist[oa]\b)"}
POLISH_LETTERS = re.compile("[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")

WORLD = {recipient: Deployment.from_config({
    "tidings": {"timezone": "Europe/Warsaw"},
    "plugins": {"channels": ["sms", "email", "push"], "triggers": list(TRIGGERS)},
    "locations": {"old-town": {"name": PLACE, "address": "Rynek 1", "timezone": "Europe/Warsaw"}},
    "rules": [{"id": t, "trigger": t, "channel": "sms", "recipient": recipient, **RULES[t]} for t in TRIGGERS]})
    for recipient in ("client", "staff")}
WORLD_TEMPLATES = {recipient: deployment.templates for recipient, deployment in WORLD.items()}

APPOINTMENT = ("pending", "confirmed", "rejected", "cancelled", "completed", "no_show")
ORDER = ("new", "confirmed", "in_repair", "processing", "ready_for_pickup", "done", "collected", "cancelled", "rejected")
CASES: list[tuple[str, str, dict[str, Any]]] = [
    *[("status-change", f"appointment {s}", {"status": s}) for s in APPOINTMENT],
    ("status-change", "appointment requested", {"verb": "created", "status": "pending"}),
    ("status-change", "appointment rescheduled", {"verb": "rescheduled"}),
    *[("status-change", f"order {s}", {"kind": "order", "status": s, "start": None}) for s in ORDER],
    ("status-change", "order created", {"kind": "order", "verb": "created", "status": "new", "start": None}),
    ("status-change", "order unknown status", {"kind": "order", "status": "waiting_for_parts", "start": None}),
    ("status-change", "lead created", {"kind": "lead", "verb": "created", "status": "new", "start": None, "services": []}),
    ("status-change", "lead in progress", {"kind": "lead", "status": "in_progress", "start": None, "services": []}),
    ("status-change", "lead unknown status", {"kind": "lead", "status": "callback_requested", "start": None, "services": []}),
    ("pre-visit", "appointment", {}),
    ("pre-visit", "order", {"kind": "order"}),
    ("post-visit", "completed", {"status": "completed"}),
    ("repeat-visit", "completed", {"status": "completed"}),
]


def visit(locale: str, **changes: Any) -> Event:
    subject: dict[str, Any] = {
        "id": "a-1", "status": "confirmed", "start": "2026-10-13T11:00:00+02:00", "location": "old-town",
        "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
        "staff": {"id": "s-1", "name": "Anna Kowalska", "locale": locale},
        "client": {"id": "c-1", "name": NAMES[locale], "phone": "+48600100200", "email": "c@example.com", "locale": locale}}
    kind, verb = changes.pop("kind", "appointment"), changes.pop("verb", "status_changed")
    subject.update(changes)
    previous = {"status": "pending" if subject["status"] != "pending" else "new"}
    if subject.get("start"):
        previous["start"] = "2026-10-12T09:30:00+02:00" if verb == "rescheduled" else subject["start"]
    return Event.from_dict({"id": "e-1", "type": f"{kind}.{verb}", "occurred_at": "2026-10-01T10:00:00+02:00", "subject": subject,
                            "previous": previous})


def as_a_worker_renders(trigger: str, channel: str, ev: Event, *, recipient: str = "client") -> dict[str, str]:
    from tidings.templates import build_context
    cfg, rule = WORLD[recipient].config, WORLD[recipient].config.rule(trigger)
    person = ev.subject.client if recipient == "client" else ev.subject.staff
    assert person is not None
    context = build_context(config=cfg, rule=rule, subject=ev.subject, previous=ev.previous, event=ev, recipient=person,
                            location=cfg.location(ev.subject.location), now=ev.occurred_at)
    return WORLD_TEMPLATES[recipient].render(rule=rule, channel=channel, parts=PARTS[channel], context=context,
                                             locale=person.locale)


def without_quoted(text: str, locale: str) -> str:
    """The text with the statuses it shows as data, in the locale's quotes, taken out."""
    if locale not in QUOTES:
        return text
    start, end = QUOTES[locale]
    return re.sub(re.escape(start) + r"[^" + re.escape(end) + r"]*" + re.escape(end), "", text)


EVERY_TEXT = [pytest.param(locale, trigger, case, changes, channel, recipient, id=f"{locale}-{trigger}:{case}-{recipient}-{channel}")
              for locale in LOCALES for trigger, case, changes in CASES for recipient in ("client", "staff") for channel in PARTS
              # post-visit and repeat-visit thank and invite the client: they have no staff texts
              if recipient == "client" or trigger in ("status-change", "pre-visit")]


@pytest.mark.parametrize(("locale", "trigger", "case", "changes", "channel", "recipient"), EVERY_TEXT)
def test_every_built_in_text_reads_as_written_for_its_locale(locale: str, trigger: str, case: str, changes: dict[str, Any],
                                                              channel: str, recipient: str) -> None:
    ev = visit(locale, **changes)
    parts = as_a_worker_renders(trigger, channel, ev, recipient=recipient)
    assert set(parts) == set(PARTS[channel]) and all(parts.values()), parts
    name = NAMES[locale]
    for part, text in parts.items():
        where = f"{locale} {trigger} {case} {recipient} {channel}.{part}: {text!r}"
        # nothing of the template or of Python shows
        assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#|\bNone\b|Undefined", text), where
        visible = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)) if part == "html" else text
        assert not re.search(r"  |\s[,.!?:]|\(\s*\)|\.\.|,\.", visible), where
        # a status is never printed as an identifier, nor in English in another language
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), where
        if locale != "en":
            assert not ENGLISH_STATUS_WORDS.search(without_quoted(text, locale)), where
        # a name, a service and a place stay as the host wrote them
        assert not re.search(r"Star(ym|ego|emu) Miast|Manicur[a-df-z]", text), where
        for vocative in VOCATIVES.get(locale, ()):
            assert not re.search(rf"\b{vocative}\b", text), where
        if locale in GENDERED:
            assert not re.search(GENDERED[locale], text), where
        if locale != "en":
            assert not re.search(r"\d (AM|PM)\b", text), where
        if re.search(r"\d:\d\d", text):    # a time is written the way the recipient's language writes it
            assert all(piece in text for piece in DATES[locale]), where
    whole = " ".join(parts.values())
    if recipient == "staff":
        assert name in whole     # staff read the client's name as a field, in the nominative
    elif channel != "push":
        assert (name in whole) is (locale in ADDRESSED_BY_NAME), whole
    if locale == "pl" and recipient == "client":
        assert POLISH_LETTERS.search(whole), whole
    if channel == "email" and trigger in ("status-change", "pre-visit"):
        assert f"{PLACE}, Rynek 1" in parts["text"], parts["text"]    # the details name the place verbatim


@pytest.mark.parametrize("locale", LOCALES)
def test_each_status_reads_in_the_clients_language_and_an_unknown_one_as_data_in_quotes(locale: str) -> None:
    labels = {}
    for status in ORDER:
        if status in ("new", "confirmed"):     # the statuses no situation of its own covers
            labels[status] = as_a_worker_renders("status-change", "sms", visit(locale, kind="order", status=status, start=None))["text"]
    unknown = as_a_worker_renders("status-change", "sms", visit(locale, kind="order", status="waiting_for_parts", start=None))["text"]
    staff = {s: as_a_worker_renders("status-change", "sms", visit(locale, status=s), recipient="staff")["text"] for s in APPOINTMENT}
    assert len(set(labels.values())) == len(labels) and len(set(staff.values())) == len(staff)   # each its own word
    if locale == "en":
        assert unknown.endswith("your order a-1 is now: waiting for parts.")
        assert staff["no_show"].startswith("No-show: Ola Nowak")
    else:
        start, end = QUOTES[locale]
        assert f"{start}waiting for parts{end}" in unknown, unknown
        for text in (*labels.values(), *staff.values()):
            assert not ENGLISH_STATUS_WORDS.search(text), text


@pytest.mark.parametrize(("locale", "sms", "subject"), [
    ("pl", "Dzień dobry! Twoja wizyta (Manicure) 13 października o 11:00 została potwierdzona. Do zobaczenia!",
     "Wizyta potwierdzona: 13 października 2026 o 11:00"),
    ("uk", "Ваш запис (Manicure) на 13 жовтня об 11:00 підтверджено.", "Запис підтверджено: 13 жовтня 2026 р. об 11:00"),
    ("ru", "Ольга Смирнова, ваша запись (Manicure) на 13 октября в 11:00 подтверждена.",
     "Запись подтверждена: 13 октября 2026 г. в 11:00"),
    ("it", "Ciao Andrea Rossi, il tuo appuntamento (Manicure) di martedì 13 ottobre alle ore 11:00 è confermato. A presto!",
     "Appuntamento confermato: martedì 13 ottobre 2026 alle ore 11:00"),
    ("en", "Hi Ola Nowak, your visit for Manicure on Oct 13, 2026, 11:00 AM is confirmed. See you soon!",
     "Your visit is confirmed: Oct 13, 2026, 11:00 AM"),
])
def test_a_confirmation_reads_as_a_native_speaker_writes_it(locale: str, sms: str, subject: str) -> None:
    ev = visit(locale, status="confirmed")
    assert as_a_worker_renders("status-change", "sms", ev)["text"] == sms
    assert as_a_worker_renders("status-change", "email", ev)["subject"] == subject


@pytest.mark.parametrize(("locale", "reminder"), [
    ("pl", "Dzień dobry! Przypominamy o wizycie (Manicure) 13 października o 11:00. Miejsce: Stare Miasto. Do zobaczenia!"),
    ("uk", "Нагадуємо про ваш запис (Manicure) на 13 жовтня об 11:00. Чекаємо!"),
    ("ru", "Ольга Смирнова, напоминаем о записи (Manicure) на 13 октября в 11:00."),
    ("it", "Ciao Andrea Rossi, ti ricordiamo l'appuntamento (Manicure) di martedì 13 ottobre alle ore 11:00. Sede: Stare Miasto. A presto!"),
])
def test_a_reminder_names_the_place_by_a_label_so_that_its_name_needs_no_case(locale: str, reminder: str) -> None:
    assert as_a_worker_renders("pre-visit", "sms", visit(locale))["text"] == reminder


def test_a_russian_sms_without_a_name_opens_with_a_capital() -> None:
    ev = visit("ru", status="confirmed", client={"id": "c-1", "phone": "+48600100200", "locale": "ru"})
    assert as_a_worker_renders("status-change", "sms", ev)["text"].startswith("Ваша запись (Manicure) на 13 октября")
    assert as_a_worker_renders("status-change", "email", ev)["text"].startswith("Здравствуйте!\n\n")


def test_a_client_in_a_language_without_texts_reads_english_words_with_dates_of_their_own() -> None:
    ev = visit("en", status="confirmed", client={"id": "c-1", "name": "Jonas", "phone": "+48600100200", "locale": "de"})
    assert as_a_worker_renders("status-change", "sms", ev)["text"] == \
        "Hi Jonas, your visit for Manicure on 13.10.2026, 11:00 is confirmed. See you soon!"


# ---------------------------------------------------------------- the phrase files


def test_the_phrase_files_ship_with_the_plugin_and_are_read_as_package_data() -> None:
    import fnmatch
    import tomllib
    from importlib.resources import files
    from pathlib import Path
    root = Path(__file__).resolve().parents[3] / "plugins" / "triggers"
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["tidings_triggers"]
    shipped = sorted(p.relative_to(root / "tidings_triggers").as_posix() for p in (root / "tidings_triggers" / "texts").glob("*.toml"))
    assert shipped == [f"texts/{locale}.toml" for locale in sorted(LOCALES)]
    assert all(any(fnmatch.fnmatch(path, pattern) for pattern in patterns) for path in shipped)
    assert not list((root / "tidings_triggers").glob("texts.py"))      # no phrase table left in Python
    assert {f.name for f in files("tidings_triggers.texts").iterdir() if f.name.endswith(".toml")} == {f"{l}.toml" for l in LOCALES}


def test_a_language_pack_in_the_same_format_gives_every_trigger_its_texts(tmp_path: Any) -> None:
    # Given a third-party German pack: the English file with its words changed
    from importlib.resources import files
    import tidings_triggers.status_change
    from tidings import hookimpl
    from tidings.plugins import registry_for
    from tidings_triggers.texts import texts_from_file
    source = (files("tidings_triggers.texts") / "en.toml").read_text(encoding="utf-8")
    source = source.replace('hello = "Hi{% if who %}', 'hello = "Hallo{% if who %}').replace(
        'sms = "your visit{{ for_what }}{{ on_when }} is confirmed. See you soon!"',
        'sms = "Ihr Termin{{ for_what }} am {{ when }} ist bestätigt. Bis bald!"').replace(
        'for_what = "{% if what %} for {{ what }}{% endif %}"', 'for_what = "{% if what %} ({{ what }}){% endif %}"')
    (tmp_path / "de.toml").write_text(source, encoding="utf-8")

    class GermanPack:
        @hookimpl
        def tidings_template_texts(self) -> Any:
            yield from texts_from_file(tmp_path / "de.toml")

    # When it is registered beside the triggers
    registry = registry_for(tidings_triggers.status_change, GermanPack())
    assert sorted((t.name, t.locale) for t in registry.texts if t.locale == "de") == [
        ("post-visit", "de"), ("pre-visit", "de"), ("repeat-visit", "de"), ("status-change", "de")]
    cfg = Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
                                  "rules": [{"id": "c", "trigger": "status-change", "on": "status_changed", "channel": "sms"}]},
                                 registry=registry_for(tidings_triggers.status_change, GermanPack(), *_sms_channel()))
    # Then a German client's confirmation is the pack's, with German dates
    ev = visit("en", client={"id": "c-1", "name": "Jonas", "phone": "+48600100200", "locale": "de"})
    context = sample_context(cfg, cfg.config.rule("c"), event=ev)
    text = cfg.templates.render(rule=cfg.config.rule("c"), channel="sms", parts=("text",), context=context, locale="de")
    assert text == {"text": "Hallo Jonas, Ihr Termin (Manicure) am 13.10.2026, 11:00 ist bestätigt. Bis bald!"}


def _sms_channel() -> list[Any]:
    import tidings_sms.plugin
    return [tidings_sms.plugin]


def test_a_phrase_file_with_mistakes_is_refused_naming_every_one(tmp_path: Any) -> None:
    from importlib.resources import files
    from tidings import PluginError
    from tidings_triggers.texts import texts_from_file
    source = (files("tidings_triggers.texts") / "en.toml").read_text(encoding="utf-8")
    source = source.replace('sms = "your visit{{ for_what }}{{ on_when }} is confirmed. See you soon!"\n', "")
    source = source.replace("[pre-visit.order]", "[pre-visit.ordre]").replace('bye = "See you soon!"', 'by = "See you soon!"')
    (tmp_path / "xx.toml").write_text(source + '\n[statuses.visit]\npending = "waiting"\n', encoding="utf-8")
    with pytest.raises(PluginError) as caught:
        texts_from_file(tmp_path / "xx.toml")
    message = str(caught.value)
    assert message.startswith("texts xx.toml: ")
    for problem in ("[words] has no 'bye'", "[words] has an unknown key 'by'", "[status-change.confirmed] has no 'sms'",
                    "[pre-visit.order] is missing", "[pre-visit] has an unknown key 'ordre'",
                    "[statuses.visit] is not a kind (appointment, order, lead)"):
        assert problem in message, message
