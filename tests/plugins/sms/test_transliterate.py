"""``[channels.sms] transliterate = true``: letters outside GSM-7 replaced at send time (PRODUCT §7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from tidings import RenderedMessage
from tidings.clock import VirtualClock
from tidings.config import Config, parse_config
from tidings.deployment import Deployment
from tidings.models import Event
from tidings.pipeline import Pipeline, build_pipeline, connect_transports
from tidings.plugin_types import Channel
from tidings.costs import in_month
from tidings.simulate import simulate
from tidings.store.memory import MemoryStore
from tidings.templates import Templates, sample_context
from tidings_sms.config import SmsConfig
from tidings_sms.segments import GSM7_BASIC, is_gsm7, segment_info
from tidings_sms.transliterate import transliterate

from .conftest import ACCOUNT_SID, AUTH_TOKEN, FakeProvider

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("text", "expected"), [
    ("Zażółć gęślą jaźń", "Zazolc gesla jazn"),
    ("ŁÓDŹ, Świętokrzyska, Ćma", "LODZ, Swietokrzyska, Cma"),
    ("Do zobaczenia 10 paź o 14:00", "Do zobaczenia 10 paz o 14:00"),
    ("Černý ďábel, řeřicha, ťuk, ů", "Cerny dabel, rericha, tuk, u"),      # cs
    ("Şişli, ğ, ı, İstanbul", "Sisli, g, i, Istanbul"),                   # tr
    ("Bună ziua, mulțumim, ș", "Buna ziua, multumim, s"),                 # ro
    ("Árvíztűrő tükörfúrógép", "Arvizturo tükörfurogép"),                 # hu: ü, ö and é are GSM-7
    ("„Cytat” – i… «tak»", '"Cytat" - i... <<tak>>'),                      # typographic punctuation
    ("10\u00a0paź\u2009o 14:00", "10 paz o 14:00"),                      # no-break and thin spaces
    ("a\u0328 e\u0301", "a é"),                                          # decomposed letters
])
def test_letters_outside_gsm7_become_their_nearest_gsm7_letters(text: str, expected: str) -> None:
    assert transliterate(text) == expected
    assert is_gsm7(transliterate(text))


def test_gsm7_letters_outside_ascii_stay_as_written() -> None:
    gsm7 = "".join(sorted(GSM7_BASIC - {"\n", "\r"})) + "€^{}[]~|\\"
    assert transliterate(gsm7) == gsm7
    for text in ("Grüße aus München, Straße", "Perché città più è già così", "Año niño, ¿qué?", "Ærø, Øst, Åse",
                 "Élodie à Noël? Ça va"):
        kept = transliterate(text)
        assert [c for c in kept if c in GSM7_BASIC and not c.isascii()] == [c for c in text if c in GSM7_BASIC and not c.isascii()]


@pytest.mark.parametrize(("ukrainian", "latin"), [
    # the examples of the national romanisation (Cabinet of Ministers' resolution 55 of 2010)
    ("Алушта", "Alushta"), ("Згорани", "Zghorany"), ("Розгон", "Rozghon"), ("Юрій", "Yurii"), ("Ялта", "Yalta"),
    ("Знам'янка", "Znamianka"), ("Їжакевич", "Yizhakevych"), ("Кадиївка", "Kadyivka"), ("Йосипівка", "Yosypivka"),
    ("Стрий", "Stryi"), ("Олексій", "Oleksii"), ("Єнакієве", "Yenakiieve"), ("Гаївка", "Haivka"),
    ("Короп’є", "Koropie"), ("Щербухи", "Shcherbukhy"), ("Гоща", "Hoshcha"), ("Ковалюк", "Kovaliuk"),
    ("Феодосія", "Feodosiia"), ("Жашків", "Zhashkiv"), ("Харків", "Kharkiv"), ("Київ", "Kyiv"), ("Ґалаґан", "Galagan"),
    ("Юлія", "Yuliia"), ("ЩАСТЯ", "SHCHASTIA"),
])
def test_ukrainian_follows_the_national_romanisation(ukrainian: str, latin: str) -> None:
    assert transliterate(ukrainian, "uk") == latin


@pytest.mark.parametrize(("russian", "latin"), [
    ("Юлия", "Yuliya"), ("сентября", "sentyabrya"), ("Хабаровск", "Khabarovsk"), ("Щукин", "Shchukin"),
    ("Дмитрий", "Dmitriy"), ("объём", "obem"), ("Эльвира", "Elvira"), ("Цветы", "Tsvety"),
])
def test_russian_follows_bgn_pcgn_without_diacritics(russian: str, latin: str) -> None:
    assert transliterate(russian, "ru") == latin


def test_a_word_with_letters_of_one_language_is_spelt_in_it_whatever_the_locale() -> None:
    # і ї є ґ are only Ukrainian, ы э ъ ё only Russian; a word with neither follows the message's locale
    assert transliterate("Дмитро з Києва", "pl") == "Dmitro z Kyieva"
    assert transliterate("Дмитро з Києва", "uk") == "Dmytro z Kyieva"
    assert transliterate("Олена, Київ", "ru") == "Olena, Kyiv"
    assert transliterate("вы", "uk") == "vy" and transliterate("Гриша", "uk") == "Hrysha"


def test_emoji_stay_as_written_and_keep_the_sms_in_ucs2() -> None:
    text = "Dziękujemy 😀 👩‍🔧 👍🏽!"
    assert transliterate(text) == "Dziekujemy 😀 👩‍🔧 👍🏽!"
    assert segment_info(transliterate(text)).encoding == "UCS-2"


def test_transliterating_twice_changes_nothing_more() -> None:
    for text in ("Zażółć gęślą jaźń", "Київ, Юлія", "Привет", "Hi 😀", "„tak”"):
        once = transliterate(text, "uk")
        assert transliterate(once, "uk") == once


def test_prepare_transliterates_only_when_the_setting_says_so(sms_channel: Channel) -> None:
    assert sms_channel.prepare is not None
    message = RenderedMessage(channel="sms", to="+380671112233", parts={"text": "Вітаємо, Юліє! 10 жовт., 14:00"}, locale="uk")
    assert sms_channel.prepare(message, SmsConfig()) is message
    assert sms_channel.prepare(message, None) is message
    sent = sms_channel.prepare(message, SmsConfig(transliterate=True))
    assert sent.parts == {"text": "Vitaiemo, Yuliie! 10 zhovt., 14:00"} and sent.to == message.to


# ---------------------------------------------------------------- at send time, through the real transports


def sms_config(settings: dict[str, Any]) -> Config:
    return parse_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "pl"},
        "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
        "channels": {"sms": {"default_region": "PL", "timeout": 5.0, **settings}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": "sms", "template": "t"}],
        "templates": {"t": {"sms": "Dzień dobry {{ client.name }}, wizyta {{ subject.start | datetime }}. Do zobaczenia!"}},
    })


@pytest.fixture
def run() -> Iterator[Any]:
    built: list[Pipeline] = []

    def go(config: Config) -> Pipeline:
        pipeline = build_pipeline(None, config, MemoryStore(), transports=connect_transports(config), clock=VirtualClock(NOW))
        built.append(pipeline)
        pipeline.publish({"id": "e-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
                          "subject": {"id": "a-1", "status": "confirmed", "start": "2026-10-14T14:00:00+02:00",
                                      "client": {"id": "c-1", "name": "Łucja Żak", "phone": "600 100 200",
                                                 "consents": {"sms": True}}}})
        pipeline.enqueue_due()
        return pipeline

    yield go
    for pipeline in built:
        for transport in pipeline.transports.values():
            transport.close()


def twilio(server: FakeProvider, **settings: Any) -> Config:
    return sms_config({"provider": "twilio", "base_url": server.url, "account_sid": ACCOUNT_SID,
                       "auth_token": AUTH_TOKEN, "sender": "+48500600700", **settings})


def test_the_twilio_provider_receives_the_text_transliterated(run: Any, twilio_server: FakeProvider) -> None:
    pipeline = run(twilio(twilio_server, transliterate=True))
    [request] = twilio_server.requests
    assert request.form["Body"] == "Dzien dobry Lucja Zak, wizyta 14 paz 2026, 14:00. Do zobaczenia!"
    # the delivery log keeps what was sent, and what it cost
    [sent] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["text"] == request.form["Body"]
    assert sent["info"]["encoding"] == "GSM-7" and sent["info"]["segments"] == 1 and "transliterated" not in sent["info"]


def test_without_the_setting_the_provider_receives_the_text_as_written(run: Any, twilio_server: FakeProvider) -> None:
    pipeline = run(twilio(twilio_server))
    [request] = twilio_server.requests
    assert request.form["Body"] == "Dzień dobry Łucja Żak, wizyta 14 paź 2026, 14:00. Do zobaczenia!"
    [sent] = [e for e in pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["info"]["encoding"] == "UCS-2"
    assert sent["info"]["transliterated"] == {"encoding": "GSM-7", "segments": 1}   # what the setting would save


def test_the_json_provider_receives_the_text_transliterated(run: Any, json_server: FakeProvider) -> None:
    run(sms_config({"provider": "json", "url": f"{json_server.url}/v1/sms", "sender": "Salon",
                    "body": {"to": "{to}", "message": "{text}"}, "transliterate": True}))
    [request] = json_server.requests
    assert request.json == {"to": "+48600100200",
                            "message": "Dzien dobry Lucja Zak, wizyta 14 paz 2026, 14:00. Do zobaczenia!"}


def test_simulate_shows_the_text_as_it_is_sent() -> None:
    lines = [json.dumps({"id": "e-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
                         "subject": {"id": "a-1", "status": "confirmed", "start": "2026-10-14T14:00:00+02:00",
                                     "client": {"id": "c-1", "name": "Łucja", "phone": "600 100 200",
                                                "consents": {"sms": True}}}})]
    [record] = simulate(sms_config({"transliterate": True}), lines)
    assert record["text"] == "Dzien dobry Lucja, wizyta 14 paz 2026, 14:00. Do zobaczenia!"


# ---------------------------------------------------------------- every built-in text, every month

# events that take each built-in text through its branches (status-change words each status differently)
STATUS_EVENTS = [
    {"verb": "created", "status": "pending", "previous": None},
    {"status": "confirmed", "previous": {"status": "pending"}},
    {"status": "cancelled", "previous": {"status": "confirmed"}},
    {"status": "rejected", "previous": {"status": "pending"}},
    {"status": "completed", "previous": {"status": "confirmed"}},
    {"status": "no_show", "previous": {"status": "confirmed"}},
    {"verb": "rescheduled", "previous": {"start": "2026-03-09T12:00:00+01:00"}},
    {"kind": "order", "verb": "created", "status": "new", "start": None, "previous": None},
    {"kind": "order", "status": "ready_for_pickup", "start": None, "previous": {"status": "in_repair"}},
    {"kind": "order", "status": "waiting_for_parts", "start": None, "previous": {"status": "new"}},
    {"kind": "lead", "verb": "created", "status": "new", "start": None, "services": [], "previous": None},
]
PENDING = {"status": "pending"}
RULES = {"status-change": {"on": "status_changed"}, "pre-visit": {"before": "24h"}, "post-visit": {"after": "1h"},
         "repeat-visit": {"after": "3w", "categories": ["nails"]}}
# the texts whose SMS is meant to fit one segment (as the English and Italian ones do as written)
ONE_SEGMENT = ("status-change", "pre-visit")


def builtin_config(recipient: str) -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "pl"},
        "plugins": {"channels": ["sms"], "triggers": list(RULES)},
        "channels": {"sms": {"transliterate": True}},
        "locations": {"stare-miasto": {"name": "Stare Miasto", "address": "Rynek 1", "timezone": "Europe/Warsaw"}},
        "rules": [{"id": name, "trigger": name, "channel": "sms", "recipient": recipient, **keys} for name, keys in RULES.items()]})


def sample(kind: str = "appointment", verb: str = "status_changed", previous: dict[str, Any] | None = PENDING,
           **subject: Any) -> Event:
    base: dict[str, Any] = {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                            "location": "stare-miasto",
                            "services": [{"id": "manicure", "name": "Manicure hybrydowy", "category": "nails"}],
                            "staff": {"id": "s-1", "name": "Małgorzata Wójcik"},
                            "client": {"id": "c-1", "name": "Łucja Żółkiewska", "phone": "+48600100200", "locale": "pl"}}
    return Event.from_dict({"id": "e-1", "type": f"{kind}.{verb}", "occurred_at": "2026-03-01T10:00:00+01:00",
                            "subject": {**base, **subject}, "previous": previous})


@pytest.mark.parametrize("recipient", ["client", "staff"])
def test_every_polish_builtin_sms_is_gsm7_in_every_month_when_transliterated(recipient: str) -> None:
    deployment = builtin_config(recipient)
    config, registry = deployment.config, deployment.registry
    channel = registry.channels["sms"]
    assert channel.prepare is not None
    templates = deployment.templates
    # every built-in text with a Polish SMS, whichever the texts plugin registers
    names = {t.name for t in registry.texts if t.locale == "pl" and channel.name not in t.channels
             and "short" in t.texts}   # the SMS channel's part has the role "short"
    rules = [r for r in config.rules if registry.triggers[r.trigger].default_template in names]
    assert {r.trigger for r in rules} == set(RULES)
    rendered = 0
    for rule in rules:
        for changes in STATUS_EVENTS if rule.trigger == "status-change" else [{}]:
            costs = set()
            for month in range(1, 13):
                event = in_month(config, sample(**changes), month)
                parts = templates.render(rule=rule, channel="sms", parts=("text",), locale="pl",
                                         context=sample_context(deployment, rule, event=event, locale="pl"))
                message = RenderedMessage(channel="sms", to="+48600100200", parts=parts, locale="pl")
                text = channel.prepare(message, config.channels["sms"]).parts["text"]
                info = segment_info(text)
                where = (rule.id, changes, month, text)
                assert info.encoding == "GSM-7", where
                if rule.trigger in ONE_SEGMENT:
                    assert info.segments == 1, where
                costs.add(info.segments)
                rendered += 1
            assert len(costs) == 1, (rule.id, changes, costs)   # no month costs more than another
    assert rendered == 12 * (len(STATUS_EVENTS) + len(RULES) - 1)
