"""Templates (PRODUCT §4, §10): the sandbox holds, typos are caught by check, locales resolve, sources combine."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tidings.check import checked
from tidings.deployment import Deployment
from tidings.errors import ConfigError, TemplateError
from tidings.templates import build_context, locale_chain, render_text, sample_context

BASE = {
    "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
    "plugins": {"channels": ["sms", "email", "push"], "triggers": ["pre-visit", "status-change"]},
    "locations": {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw"}},
}
START = datetime(2026, 3, 10, 14, 0, tzinfo=ZoneInfo("Europe/Warsaw"))


def config_with(templates: dict[str, Any], *, template: str | None = "t", channel: Any = "sms", **extra: Any) -> Deployment:
    rule = {"id": "reminder", "trigger": "pre-visit", "before": "24h", "channel": channel}
    if template:
        rule["template"] = template
    return checked({**BASE, "rules": [rule], "templates": templates, **extra})


def problems_of(templates: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        config_with(templates, **kwargs)
    return str(caught.value)


def render(config: Any, *, channel: str = "sms", locale: str | None = None, **parts: Any) -> dict[str, str]:
    rule = config.config.rules[0]
    found = config.registry.channels[channel].parts
    return config.templates.render(rule=rule, channel=channel, parts=found,
                                   context=sample_context(config, rule, locale=locale), locale=locale)


# ---------------------------------------------------------------- escapes: refused by check, and at render time

ESCAPES = [
    pytest.param("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__class__", id="class-mro-subclasses"),
    pytest.param("{{ client.__class__ }}", "__class__", id="dunder-on-context"),
    pytest.param("{{ cancel_url.__globals__['os'] }}", "__globals__", id="function-globals"),
    pytest.param("{{ (services|first).__init__.__globals__ }}", "__init__", id="init-globals"),
    pytest.param("{{ client['__class__'] }}", "__class__", id="dunder-by-subscript"),
    pytest.param("{{ ''.mro }}", "mro", id="mro"),
    pytest.param("{{ range.__self__ }}", "__self__", id="builtin-self"),
    pytest.param("{{ os.system('id') }}", "os", id="os-module"),
    pytest.param("{{ cycler.__init__.__globals__.os }}", "cycler", id="cycler-global"),
    pytest.param("{{ lipsum.__globals__ }}", "lipsum", id="lipsum-global"),
    pytest.param("{{ self.__init__ }}", "__init__", id="self-reference"),
    pytest.param("{{ config }}", "config", id="flask-style-config"),
]


@pytest.mark.parametrize(("source", "named"), ESCAPES)
def test_an_escape_attempt_is_refused_by_check(source: str, named: str) -> None:
    text = problems_of({"t": {"sms": source}})
    assert "templates.t.sms" in text and named in text


@pytest.mark.parametrize(("source", "named"), ESCAPES)
def test_an_escape_attempt_cannot_run_in_a_worker(source: str, named: str) -> None:
    # a worker renders what is there, even if check never ran: the sandbox refuses it at run time
    context = sample_context(config_with({"t": {"sms": "ok"}}), config_with({"t": {"sms": "ok"}}).config.rules[0])
    with pytest.raises(TemplateError):
        render_text(source, context)


def test_an_escape_hidden_in_a_branch_the_sample_never_takes_is_still_refused() -> None:
    text = problems_of({"t": {"sms": "{% if client.name == 'nobody' %}{{ ''.__class__ }}{% endif %}hi"}})
    assert "__class__" in text


def test_the_context_is_immutable() -> None:
    config = config_with({"t": {"sms": "ok"}})
    context = sample_context(config, config.config.rules[0])
    with pytest.raises(TemplateError, match="sandbox"):
        render_text("{{ services.append(1) }}", context)
    assert len(context["services"]) == 1


@pytest.mark.parametrize("source", [
    pytest.param("{{ 'x' * 10000000 }}", id="string-repetition"),
    pytest.param("{{ 9 ** 9 ** 9 }}", id="power"),
    pytest.param("{{ 'x' | center(1000000000) }}", id="huge-filter-argument"),
    pytest.param("{{ '%999999999s' % 'x' }}", id="huge-format-width"),
    pytest.param("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", id="nested-loops"),
    pytest.param("{% for i in range(60000) %}{{ 'x' * 100 }}{% endfor %}", id="long-output"),
    pytest.param("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", id="endless-recursion"),
    pytest.param("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}", id="exponential-macro"),
])
def test_a_template_that_would_exhaust_a_worker_is_stopped(source: str) -> None:
    with pytest.raises(TemplateError, match="sandbox|longer than"):
        render_text(source, {})


DOUBLING = "{% set a = 'x' %}" + "{% set a = a ~ a %}" * 40 + "{{ a | length }}"


@pytest.mark.parametrize("source", [
    pytest.param("{{ '{0:>999999999}'.format('x') }}", id="format-width"),
    pytest.param("{{ '{:{}}'.format('x', 999999999) }}", id="format-nested-width"),
    pytest.param("{{ '{0:.999999999f}'.format(1.5) }}", id="format-precision"),
    pytest.param("{{ '%*s' % (999999999, 'x') }}", id="percent-star-width"),
    pytest.param("{{ '%.*f' % (999999999, 1.5) }}", id="percent-star-precision"),
    pytest.param("{{ 'x'.zfill(10**9) }}", id="zfill"),
    pytest.param("{{ 'x'.ljust(999999999) }}", id="ljust"),
    pytest.param("{{ 'x'.center(99999) * 1 }}{{ 'y'.rjust(99999) }}", id="padding-within-number-limit"),
    pytest.param(DOUBLING, id="concatenation-doubling"),
    pytest.param("{% set a = 'xx' %}" + "{% set a = a + a %}" * 40 + "{{ a | length }}", id="plus-doubling"),
    pytest.param("{% set a = 2 %}" + "{% set a = a * a %}" * 40 + "{{ a > 1 }}", id="integer-squaring"),
    pytest.param("{{ ('a' * 60000) | replace('a', 'b' * 60000) }}", id="replace-filter"),
    pytest.param("{{ ('a' * 60000).replace('a', 'bbbbbbbbbb') }}", id="replace-method"),
    pytest.param("{{ ('x\n' * 30000) | indent(99999) }}", id="indent"),
    pytest.param("{{ (['x' * 60000] * 60000) | join }}", id="join"),
    pytest.param("{{ (['x' * 1000] * 60) | join('y' * 60000) }}", id="join-separator"),
    pytest.param("{{ '%s' | format('x' * 60000) * 20 }}", id="format-filter"),
    pytest.param("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", id="deep-nesting"),
    pytest.param("{{ " + "[" * 3000 + "]" * 3000 + " }}", id="deep-list-nesting"),
])
def test_every_string_a_template_builds_is_paid_for_before_it_can_exhaust_a_worker(source: str) -> None:
    import tracemalloc
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match="sandbox"):
            render_text(source, {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000, f"the render allocated {peak:,} bytes before it was refused"


def test_a_data_dependent_blow_up_is_a_template_error_at_dispatch_not_a_crash() -> None:
    import tracemalloc
    context = {"data": {"text": "a" * 50_000, "with": "b" * 50_000}}
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match="sandbox"):
            render_text("{{ data.text | replace('a', data.with) }}", context)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000


def test_check_stops_a_template_that_never_finishes_and_names_it() -> None:
    text = problems_of({"t": {"sms": "{% set a = 2 %}" + "{% set a = a * a %}" * 40 + "{{ a }}"}})
    assert "templates.t.sms" in text or "rules[0]" in text
    assert "sandbox" in text


def test_ordinary_formatting_and_padding_still_work() -> None:
    source = ("[{{ '{:>6}'.format('ab') }}|{{ '%-4s' % 'x' }}|{{ 'a-b'.replace('-', ' - ') }}|{{ '7'.zfill(3) }}|"
              "{{ ['a', 'b'] | join(', ') }}|{{ 'x' ~ 'y' ~ 3 }}|{{ 'ab' + 'cd' }}|{{ 'line' | indent(2, true) }}")
    assert render_text(source, {}) == "[    ab|x   |a - b|007|a, b|xy3|abcd|  line"


def test_ordinary_loops_and_arithmetic_still_work() -> None:
    source = "{% for s in services %}{{ loop.index }}. {{ s.name }}{% endfor %} {{ 2 ** 10 }} {{ '-' * 3 }} {{ '%05d' % 42 }}"
    assert render_text(source, {"services": [{"name": "Manicure"}, {"name": "Pedicure"}]}) == \
        "1. Manicure2. Pedicure 1024 --- 00042"


def test_html_parts_are_escaped_and_text_parts_are_not() -> None:
    config = config_with({"t": {"email": {"subject": "{{ data.note }}", "text": "{{ data.note }}", "html": "<p>{{ data.note }}</p>"}}},
                         channel="email")
    rule = config.config.rules[0]
    context = {**sample_context(config, rule), "data": {"note": "<b>Tom & Jerry</b>"}}
    parts = config.templates.render(rule=rule, channel="email", parts=("subject", "text", "html"),
                                                 context=context, locale=None)
    assert parts["text"] == "<b>Tom & Jerry</b>" and parts["subject"] == "<b>Tom & Jerry</b>"
    assert parts["html"] == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"


# ---------------------------------------------------------------- check finds mistakes by name and place


def test_a_misspelt_variable_is_named_with_a_suggestion() -> None:
    text = problems_of({"t": {"sms": "Hi {{ cleint.name }}"}})
    assert "templates.t.sms: unknown variable 'cleint' (did you mean 'client'?)" in text


def test_a_misspelt_attribute_of_a_known_variable_is_named() -> None:
    text = problems_of({"t": {"email": {"subject": "x", "text": "See you {{ subject.strat | date }}"}}}, channel="email")
    assert "templates.t.email.text: line 1: subject has no 'strat' (did you mean 'start'?)" in text


def test_a_misspelt_attribute_inside_a_loop_is_found_by_rendering_the_sample() -> None:
    text = problems_of({"t": {"sms": "{% for s in services %}{{ s.nmae }}{% endfor %}"}})
    assert "rules[0] (reminder).template" in text and "nmae" in text


def test_a_syntax_error_is_reported_with_its_line() -> None:
    text = problems_of({"t": {"sms": "Hi\n{{ client.name }"}})
    assert "templates.t.sms: line 2:" in text


def test_an_unknown_template_name_is_a_warning_and_the_built_in_text_is_sent() -> None:
    config = config_with({"t": {"sms": "hi"}}, template="tt")
    [warning] = config.warnings
    assert str(warning) == ("warning: rules[0] (reminder).template: no template named 'tt' (did you mean 't'? defined: t); "
                            "the built-in pre-visit texts are used")
    assert render(config, locale="en")["text"].startswith("Hi Ola Nowak, a reminder of your visit")


def test_check_prints_warnings_and_still_exits_zero(tmp_path: Path) -> None:
    import subprocess
    import sys
    (tmp_path / "tidings.toml").write_text("""
[plugins]
channels = ["sms"]
triggers = ["post-visit"]
[channels.sms]
account_sid = "AC00000000000000000000000000000000"
sender = "+48600000000"
[[rules]]
id = "review"
trigger = "post-visit"
after = "1h"
channel = "sms"
template = "review_request"
""", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "tidings.cli", "check", str(tmp_path / "tidings.toml")],
                            capture_output=True, text=True)
    assert result.returncode == 0
    assert "warning: rules[0] (review).template: no template named 'review_request'" in result.stderr


def test_an_unknown_part_and_an_unknown_channel_are_reported() -> None:
    text = problems_of({"t": {"email": {"subjcet": "x", "text": "y"}, "smss": "z"}}, channel="email")
    assert "templates.t.email.subjcet: email has no part 'subjcet' (did you mean 'subject'?)" in text
    assert "templates.t.smss" in text and "'sms'" in text


def test_links_used_without_a_secret_are_reported() -> None:
    text = problems_of({"t": {"sms": "Confirm: {{ confirm_url() }}"}})
    assert "confirm_url() needs [links].base_url" in text


def test_every_problem_is_reported_at_once() -> None:
    text = problems_of({"t": {"sms": "{{ cleint }}", "push": {"title": "{{ ''.__class__ }}", "body": "{{ x }"}}})
    assert "cleint" in text and "__class__" in text and "templates.t.push.body: line 1" in text


# ---------------------------------------------------------------- locales and sources


def test_locale_chain_falls_back_from_region_to_language_to_default() -> None:
    assert locale_chain("pl-PL", "it") == ["pl_PL", "pl", "it", "en"]
    assert locale_chain(None, "en") == ["en"]


TRANSLATED = {"t": {"sms": "Hello {{ client.name }}", "pl": {"sms": "Cześć {{ client.name }}"}, "uk_UA": {"sms": "Привіт"}}}


@pytest.mark.parametrize(("locale", "expected"), [
    ("pl", "Cześć Ola Nowak"),
    ("pl_PL", "Cześć Ola Nowak"),       # regional fallback
    ("uk", "Hello Ola Nowak"),          # uk_UA is more specific than uk: it does not serve plain uk
    ("uk-UA", "Привіт"),
    ("de", "Hello Ola Nowak"),          # no German: the unlocalised text
    (None, "Hello Ola Nowak"),
])
def test_templates_resolve_by_recipient_locale(locale: str | None, expected: str) -> None:
    assert render(config_with(TRANSLATED), locale=locale)["text"] == expected


def test_a_template_without_a_channel_falls_back_to_the_triggers_built_in_text() -> None:
    config = config_with({"t": {"sms": "custom"}}, channel=["push", "sms"])
    push = render(config, channel="push", locale="pl")
    assert push["title"] == "Przypomnienie o wizycie: 10 marca 2026 o 14:00" and "(Manicure)" in push["body"]


def test_the_configured_locale_is_used_when_the_recipient_has_none() -> None:
    config = config_with({"t": {"pl": {"sms": "Cześć"}, "en": {"sms": "Hello"}}},
                         tidings={"timezone": "Europe/Warsaw", "locale": "pl"})
    assert render(config, locale=None)["text"] == "Cześć"
    assert render(config, locale="en")["text"] == "Hello"


def test_templates_load_from_a_directory_and_win_over_the_config(tmp_path: Path) -> None:
    (tmp_path / "templates" / "t" / "pl").mkdir(parents=True)
    (tmp_path / "templates" / "t" / "email.subject").write_text("Visit {{ subject.start | date }}\n", encoding="utf-8")
    (tmp_path / "templates" / "t" / "email.txt").write_text("Hi {{ client.name }}\n", encoding="utf-8")
    (tmp_path / "templates" / "t" / "pl" / "email.subject").write_text("Wizyta {{ subject.start | date }}", encoding="utf-8")
    (tmp_path / "templates" / "t" / "pl" / "email.txt").write_text("Cześć {{ client.name }}", encoding="utf-8")
    (tmp_path / "templates" / "t" / "pl" / "email.html").write_text("<p>Cześć {{ client.name }}</p>", encoding="utf-8")
    (tmp_path / "tidings.toml").write_text("""
[tidings]
timezone = "Europe/Warsaw"
templates = "templates"
[plugins]
channels = ["email"]
triggers = ["pre-visit"]
[[rules]]
id = "reminder"
trigger = "pre-visit"
before = "24h"
channel = "email"
template = "t"
[templates.t]
email = { subject = "from the config", text = "from the config" }
""", encoding="utf-8")
    config = checked(tmp_path / "tidings.toml")
    assert render(config, channel="email", locale="pl") == {
        "subject": "Wizyta 10 mar 2026", "text": "Cześć Ola Nowak", "html": "<p>Cześć Ola Nowak</p>"}
    assert render(config, channel="email", locale="en") == {"subject": "Visit Mar 10, 2026", "text": "Hi Ola Nowak"}


def test_an_unknown_file_in_the_template_directory_is_reported(tmp_path: Path) -> None:
    (tmp_path / "t" / "t").mkdir(parents=True)
    (tmp_path / "t" / "t" / "sms.text").write_text("hi", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config_with({}, tidings={"timezone": "UTC", "templates": str(tmp_path / "t")})
    assert "unknown template file 'sms.text' (did you mean 'sms.txt'?)" in str(caught.value)


# ---------------------------------------------------------------- context


def test_free_form_data_keys_pass_check_with_a_placeholder() -> None:
    config = config_with({"t": {"sms": "Price: {{ data.price }}, deposit {{ data.deposit }}"}})
    assert render(config)["text"] == "Price: 120 PLN, deposit [deposit]"


def test_the_context_holds_what_the_spec_lists() -> None:
    config = config_with({"t": {"sms": "x"}})
    context = sample_context(config, config.config.rules[0])
    assert {"client", "staff", "subject", "previous", "services", "location", "rule", "data", "event"} <= set(context)
    assert context["client"]["first_name"] == "Ola"
    assert context["location"]["name"] == "Old Town"
    assert context["rule"]["id"] == "reminder"
    assert context["subject"]["client"] == context["client"]     # the snapshot as the event carried it


def test_the_filters_format_in_the_location_zone_and_the_recipient_locale() -> None:
    context = {"start": datetime(2026, 3, 10, 13, 0, tzinfo=ZoneInfo("UTC"))}
    source = "{{ start | datetime }} / {{ start | date('EEEE') }} / {{ start | time }}"
    assert render_text(source, context, locale="en", zone="Europe/Warsaw") == "Mar 10, 2026, 2:00 PM / Tuesday / 2:00 PM"
    assert render_text(source, context, locale="pl", zone="Europe/Warsaw") == "10 mar 2026, 14:00 / wtorek / 14:00"
    assert render_text(source, context, locale="uk", zone="America/New_York").endswith("/ вівторок / 09:00")


def test_a_calendar_date_stays_the_same_day_in_any_zone() -> None:
    from datetime import date
    assert render_text("{{ d | date }}", {"d": date(2026, 3, 10)}, locale="en", zone="America/New_York") == "Mar 10, 2026"
    assert render_text("{{ d | date }}", {"d": date(2026, 3, 10)}, locale="en", zone="Pacific/Kiritimati") == "Mar 10, 2026"


def test_money_is_formatted_for_the_locale() -> None:
    assert render_text("{{ 1234.5 | money('PLN') }}", {}, locale="pl") == "1 234,50 zł"
    assert render_text("{{ '1234.5' | money('EUR') }}", {}, locale="it") == "1.234,50 €"
    assert render_text("{{ 1234.5 | money }}", {}, locale="en") == "1,234.5"


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "1 hour 30 minutes / 45 minutes / 2 hr"), ("pl", "1 godzina 30 minut / 45 minut / 2 godz."),
    ("uk", "1 година 30 хвилин / 45 хвилин / 2 год"), ("it", "1 ora 30 minuti / 45 minuti / 2 h"),
])
def test_durations_are_spelt_out_in_the_locale(locale: str, expected: str) -> None:
    context = {"start": datetime(2026, 3, 10, 13, 0, tzinfo=ZoneInfo("UTC")), "end": datetime(2026, 3, 10, 14, 30, tzinfo=ZoneInfo("UTC"))}
    source = "{{ (end - start) | duration }} / {{ 45 | duration }} / {{ 120 | duration('short') }}"
    assert render_text(source, context, locale=locale) == expected


def test_build_context_uses_the_recipients_locale_and_the_locations_zone() -> None:
    config = config_with({"t": {"sms": "x"}})
    event_context = sample_context(config, config.config.rules[0], locale="uk")
    assert event_context["_locale"] == "uk" and event_context["_zone"] == "Europe/Warsaw"
    rule = config.config.rules[0]
    from tidings.models import Event
    event = Event.from_dict({"id": "e", "type": "appointment.created", "occurred_at": "2026-03-01T10:00:00+01:00",
                             "subject": {"id": "a", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00"}})
    context = build_context(config=config.config, rule=rule, subject=event.subject, previous=None, event=event, recipient=None,
                            location=config.config.location(None))
    assert context["client"] is None and context["services"] == [] and context["_locale"] == "en"


def test_services_named_by_the_message_are_the_only_ones_its_template_lists() -> None:
    config = config_with({"t": {"sms": "x"}})
    from tidings.models import Event
    event = Event.from_dict({"id": "e", "type": "appointment.created", "occurred_at": "2026-03-01T10:00:00+01:00",
                             "subject": {"id": "a", "services": [{"id": "manicure", "name": "Manicure"},
                                                                 {"id": "colour", "name": "Hair colouring"},
                                                                 {"id": "manicure", "name": "Manicure"}]}})
    context = build_context(config=config.config, rule=config.config.rules[0], subject=event.subject, previous=None, event=event,
                            recipient=None, location=config.config.location(None), services=("manicure",))
    assert [s["name"] for s in context["services"]] == ["Manicure"]
    assert len(context["subject"]["services"]) == 3     # the snapshot itself stays whole


# ---------------------------------------------------------------- signed links in templates


def test_confirm_and_cancel_links_carry_a_token_the_host_can_verify() -> None:
    from tidings.links import verify
    config = config_with({"t": {"sms": "Confirm {{ confirm_url() }} or cancel {{ cancel_url() }}"}},
                         links={"base_url": "https://salon.example/v", "secret": "k3y-of-the-salon-at-least-32-bytes", "ttl": "2d"})
    rule = config.config.rules[0]
    context = sample_context(config, rule)
    text = config.templates.render(rule=rule, channel="sms", parts=("text",), context=context, locale=None)["text"]
    confirm, cancel = [word for word in text.split() if word.startswith("https://")]
    assert confirm.startswith("https://salon.example/v/confirm?token=") and "/v/cancel?token=" in cancel
    claim = verify(confirm, secret="k3y-of-the-salon-at-least-32-bytes", now=context["_now"])
    assert (claim.subject, claim.action) == ("sample-1", "confirm")
    assert claim.expires - context["_now"] == timedelta(days=2)
    assert verify(cancel, secret="k3y-of-the-salon-at-least-32-bytes", now=context["_now"]).action == "cancel"
    assert "k3y-of-the-salon-at-least-32-bytes" not in text and all("k3y-of-the-salon-at-least-32-bytes" not in str(value) for value in context.values())


def test_a_weak_link_secret_is_a_problem_of_check_not_a_crash_of_the_sample_render() -> None:
    text = problems_of({"t": {"sms": "Confirm {{ confirm_url() }}"}},
                       links={"base_url": "https://salon.example/v", "secret": "k3y"})
    assert "links.secret: the link secret is 3 bytes long" in text


def test_a_render_that_runs_past_its_time_budget_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    import tidings.templates.budget
    monkeypatch.setattr(tidings.templates.budget, "RENDER_SECONDS", -1.0)   # already late: the first check stops it
    with pytest.raises(TemplateError, match="takes too long"):
        render_text("{% for i in range(1000) %}{{ i }}{% endfor %}", {})


# ---------------------------------------------------------------- dates in the recipient's locale, whatever the text


@pytest.mark.parametrize(("templates", "locale", "expected"), [
    pytest.param({"t": {"sms": "{{ subject.start | datetime }} / {{ subject.start | date('EEEE') }}"}}, "pl",
                 "10 mar 2026, 14:00 / wtorek", id="unlocalised-text-polish-client"),
    pytest.param({"t": {"en": {"sms": "See you {{ subject.start | datetime }}"}, "pl": {"sms": "Do zobaczenia"}}}, "uk",
                 "See you 10 бер. 2026 р., 14:00", id="fallback-to-another-language"),
    pytest.param({"t": {"en": {"sms": "See you {{ subject.start | datetime }}"}}}, "en_GB",
                 "See you 10 Mar 2026, 14:00", id="the-recipients-region-in-its-own-language"),
    pytest.param({"t": {"sms": "{{ subject.start | time }}"}}, "pl_XX", "14:00", id="unknown-region-uses-its-language"),
])
def test_dates_are_formatted_in_the_recipients_locale(templates: dict[str, Any], locale: str, expected: str) -> None:
    assert render(config_with(templates), locale=locale)["text"] == expected


def test_a_recipient_without_a_locale_reads_dates_in_the_configured_one_even_in_a_fallback_text() -> None:
    config = config_with({"t": {"en": {"sms": "See you {{ subject.start | datetime }}"}}},
                         tidings={"timezone": "Europe/Warsaw", "locale": "it"})
    assert render(config, locale=None)["text"] == "See you 10 mar 2026, 14:00"


# ---------------------------------------------------------------- an undefined value never reaches a message

LEAKS = [
    pytest.param("{{ services | map(attribute='nmae') | list }}", "a service has no 'nmae'", id="map-to-a-list"),
    pytest.param("{{ [client | attr('nmae')] }}", "has no 'nmae'", id="attr-inside-a-list-literal"),
    pytest.param("{{ {'who': client | attr('nmae')} }}", "has no 'nmae'", id="inside-a-dict"),
    pytest.param("{{ services | map(attribute='nmae') | list | pprint }}", "a service has no 'nmae'", id="pprint"),
    pytest.param("{{ '%r' % (services | map(attribute='nmae') | first) }}", "a service has no 'nmae'", id="repr-format"),
    pytest.param("{{ services | map(attribute='nmae') | list | tojson }}", "a service has no 'nmae'", id="tojson"),
    pytest.param("{{ services | map(attribute='nmae') | batch(2) | list }}", "a service has no 'nmae'", id="nested-list"),
    pytest.param("{{ services | groupby('nmae') }}", "a service has no 'nmae'", id="groupby-key"),
    pytest.param("{{ (services | first | attr('nmae')) | round }}", "a service has no 'nmae'", id="round"),
    pytest.param("{{ '{}'.format(services | first | attr('nmae')) }}", "a service has no 'nmae'", id="str-format"),
]


@pytest.mark.parametrize(("source", "problem"), LEAKS)
def test_an_undefined_value_is_a_render_error_naming_the_template_and_the_missing_key(source: str, problem: str) -> None:
    # a worker renders what is there, even if check never ran (here: the source replaced after loading)
    config = config_with({"t": {"sms": "ok"}})
    templates = config.templates
    templates.deployer["t"][None]["sms"]["text"] = source
    with pytest.raises(TemplateError) as caught:
        templates.render(rule=config.config.rules[0], channel="sms", parts=("text",),
                         context=sample_context(config, config.config.rules[0]), locale=None)
    assert str(caught.value).startswith("template 't' (default) sms.text: ") and problem in str(caught.value)


def test_a_guarded_undefined_value_still_renders_while_an_unguarded_one_is_refused() -> None:
    guarded = ("{{ (services | first | attr('nmae')) is defined }} {{ client | attr('nmae') | default('-') }} "
               "{{ services | map(attribute='nmae', default='?') | join }}")
    config = config_with({"t": {"sms": "x"}})
    assert render_text(guarded, sample_context(config, config.config.rules[0])) == "False - ?"
    with pytest.raises(TemplateError, match="has no 'nmae'"):
        render_text("{{ [client | attr('nmae')] }}", {"client": {"name": "Ola"}})


@pytest.mark.parametrize(("source", "problem"), [
    pytest.param("{{ services | map(attribute='nmae') | join(', ') }}",
                 "line 1: map() reads 'nmae', and a service has no 'nmae' (did you mean 'name'?)", id="map"),
    pytest.param("{{ subject.services | sort(attribute='name') | map(attribute='price') | list }}",
                 "line 1: map() reads 'price', and a service has no 'price' (known: id, name, category)", id="after-sort"),
    pytest.param("{{ services | selectattr('categroy', 'equalto', 'nails') | list | length }}",
                 "line 1: selectattr() reads 'categroy'", id="selectattr"),
    pytest.param("{{ services | sum(attribute='price') }}", "line 1: sum() reads 'price'", id="sum"),
    pytest.param("{{ client | attr('frist_name') }}", "line 1: attr() reads 'frist_name'", id="attr"),
])
def test_check_finds_a_filter_reading_a_key_the_value_does_not_have_without_rendering(source: str, problem: str) -> None:
    # statically, so a visit without services (where the filter has nothing to read) cannot hide it
    assert f"templates.t.sms: {problem}" in problems_of({"t": {"sms": source}})


def test_check_catches_an_undefined_value_printed_inside_a_list_on_its_sample_render() -> None:
    text = problems_of({"t": {"sms": "{% set chosen = services %}Services: {{ chosen | map(attribute='nmae') | list }}"}})
    assert "rules[0] (reminder).template: template 't' (default) sms.text: a service has no 'nmae'" in text


def test_a_plugins_global_reads_the_settings_of_a_channel_through_channel_settings() -> None:
    # Given a plugin whose global writes the SMS channel's sender, and a rule whose template uses it
    from types import SimpleNamespace

    import tidings_sms.plugin
    from tidings import hookimpl
    from tidings.plugin_types import TemplateGlobal
    from tidings.plugins import registry_for
    from tidings.templates import channel_settings

    def sender(context: Any) -> str:
        settings = channel_settings(context, "sms")
        return "nobody" if settings is None else settings.sender

    @hookimpl
    def tidings_template_globals() -> Any:
        yield TemplateGlobal(name="sms_sender", value=sender, needs_context=True)

    registry = registry_for(tidings_sms.plugin, SimpleNamespace(tidings_template_globals=tidings_template_globals))
    deployment = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": ["sms"], "triggers": []},
        "channels": {"sms": {"provider": "json", "url": "https://sms.example/send", "sender": "SalonAnna"}},
        "rules": [], "templates": {}}, registry=registry)

    # When a template of that deployment calls it, and one rendered with no configuration does
    from tidings.templates import Templates
    templates = Templates.build(deployment.config, registry)
    configured = templates.env(False).from_string("From {{ sms_sender() }}").render()
    bare = render_text("From {{ sms_sender() }}", {}, registry=registry)

    # Then the first reads [channels.sms], the second finds no settings
    assert (configured, bare) == ("From SalonAnna", "From nobody")


# ---------------------------------------------------------------- a dict's keys by attribute, its methods still checked

@pytest.mark.parametrize("source", ["{{ data.pop('k') }}", "{{ data.update(k=2) }}", "{{ data.clear() }}",
                                    "{{ data.setdefault('j', 1) }}", "{{ data.__class__ }}", "{{ client.nothing }}"])
def test_a_dict_method_that_changes_it_a_dunder_or_a_missing_key_is_refused(source: str) -> None:
    with pytest.raises(TemplateError):
        render_text(source, {"data": {"k": 1}, "client": {"name": "Ann"}})


def test_a_dict_key_reads_by_attribute_and_its_harmless_methods_still_work() -> None:
    context = {"data": {"k": 1, "items": "shadowed"}, "client": {"name": "Ann"}}
    assert render_text("{{ client.name }} {{ data.k }} {{ data['items'] }} {{ data.items() | list | length }}",
                       context) == "Ann 1 shadowed 2"
