"""Channels declare the roles of their parts; built-in texts and the delivery log follow the roles, not the names."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import tidings_email.plugin
import tidings_triggers.post_visit
import tidings_triggers.pre_visit
import tidings_triggers.repeat_visit
import tidings_triggers.status_change
from tidings import Channel, PluginError, hookimpl
from tidings.deployment import Deployment
from tidings.plugins import registry_for
from tidings.simulate import simulate
from tidings.templates import sample_context
from tidings_triggers.texts import LOCALES

RULES = {
    "status-change": {"on": "status_changed"},
    "pre-visit": {"before": "24h"},
    "post-visit": {"after": "1h"},
    "repeat-visit": {"after": "3w", "categories": ["nails"]},
}


class Chat:
    """A channel no part of tidings knows: its parts are named its own way, with the roles title and text."""

    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="chat", summary="a chat message", parts=("headline", "message"),
                      roles={"headline": "title", "message": "text"}, connect=lambda settings: None,
                      addresses=lambda contact, settings: (f"chat:{contact.id}",))


def deployment(*channels: str) -> Deployment:
    registry = registry_for(tidings_triggers.status_change, tidings_triggers.pre_visit, tidings_triggers.post_visit,
                            tidings_triggers.repeat_visit, tidings_email.plugin, Chat())
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": list(channels), "triggers": list(RULES)},
        "channels": {"email": {"sender": "Salon <hello@salon.example>"}} if "email" in channels else {},
        "locations": {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw"}},
        "rules": [{"id": trigger, "trigger": trigger, "channel": "chat", **keys} for trigger, keys in RULES.items()]},
        registry=registry)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("trigger", RULES)
def test_a_new_channel_gets_every_triggers_built_in_text_for_each_of_its_roles(trigger: str, locale: str) -> None:
    # Given a deployment whose rules send through the chat channel, which has no text of its own anywhere
    both = deployment("chat", "email")
    rule = both.config.rule(trigger)
    context = sample_context(both, rule, locale=locale)
    # When its message is rendered
    chat = both.templates.render(rule=rule, channel="chat", parts=("headline", "message"), context=context, locale=locale)
    # Then each part is the built-in text of its role: the e-mail's subject (title) and plain text (text)
    email = both.templates.render(rule=rule, channel="email", parts=("subject", "text"), context=context, locale=locale)
    assert chat == {"headline": email["subject"], "message": email["text"]}
    assert all(chat.values())


def test_a_new_channel_sends_every_triggers_built_in_texts_and_the_log_keeps_them_by_role() -> None:
    client = {"id": "c-1", "name": "Ola Nowak", "locale": "pl", "consents": {"chat": True}}
    visit = {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
             "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}], "client": client}
    events = [
        {"id": "e-1", "type": "appointment.created", "occurred_at": "2026-03-01T10:00:00+01:00", "subject": visit},
        {"id": "e-2", "type": "appointment.status_changed", "occurred_at": "2026-03-10T15:00:00+01:00",
         "subject": {**visit, "status": "completed"}, "previous": {"status": "confirmed"}},
    ]
    sent = simulate(deployment("chat"), [json.dumps(e) for e in events])
    # every trigger's message went out through the chat channel, its title and text the built-in Polish ones
    assert {r["rule"]: r["title"] for r in sent} == {
        "pre-visit": "Przypomnienie o wizycie: 10 marca 2026 o 14:00", "status-change": "Dziękujemy za wizytę",
        "post-visit": "Jak minęła wizyta?", "repeat-visit": "Czas na kolejną wizytę"}
    for record in sent:
        assert record["channel"] == "chat" and record["to"] == "chat:c-1"
        assert record["text"].startswith("Dzień dobry!\n\n") and record["text"].endswith("Pozdrawiamy serdecznie"), record


def test_a_channel_naming_a_role_for_a_part_it_has_not_or_an_unknown_role_is_refused() -> None:
    def chat(**roles: str) -> Channel:
        return Channel(name="chat", summary="", parts=("headline", "message"), roles=roles,
                       connect=lambda settings: None, addresses=lambda contact, settings: ())

    with pytest.raises(PluginError, match="roles names 'body', which is not one of its parts"):
        chat(body="text")
    with pytest.raises(PluginError, match="'subject' is not a part role"):
        chat(headline="subject")


def test_a_part_named_after_a_role_has_that_role_and_any_other_part_none() -> None:
    channel = Channel(name="x", summary="", parts=("title", "body"), connect=lambda settings: None,
                      addresses=lambda contact, settings: ())
    assert (channel.role("title"), channel.role("body")) == ("title", None)
    assert channel.logged({"title": "T", "body": "B"}) == {"title": "T", "text": None}

