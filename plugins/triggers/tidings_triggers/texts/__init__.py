"""The built-in texts of the four triggers, assembled from one phrase file per locale: ``texts/<locale>.toml``.

A phrase file holds what is said, in one language; this module holds how it becomes the Jinja
templates of every part role (`tidings.plugin_types.ROLES`): ``short`` (an SMS), ``title`` (an
e-mail's subject, a push title), ``text`` and ``html`` (an e-mail's bodies) and ``brief`` (a push
body), so that every channel gets them by the roles of its parts. It holds which situation a
message is in (a booking confirmed, moved, an order ready, ...), the greeting, the e-mail's details
and links. A language pack outside this
distribution writes a file in the same format and registers it from its own plugin::

    from importlib.resources import files
    from tidings import hookimpl
    from tidings_triggers.texts import texts_from_file

    @hookimpl
    def tidings_template_texts():
        yield from texts_from_file(files("tidings_de") / "de.toml")    # every trigger, in de

The format (``en.toml`` is the complete reference):

``[words]``
    ``hello`` opens an SMS, the phrase follows it (after ``", "`` in lower case, otherwise
    capitalised); ``hello_mail`` is an e-mail's first line; ``bye`` its last; ``when``, ``what``,
    ``where`` label the e-mail's details and ``confirm``, ``cancel`` its links.
``[dates]``
    ``long`` (e-mail, push) and ``short`` (SMS): how a start ``t`` is written, with the filters.
``[pieces]``
    optional: Jinja fragments set as variables of the same name before every phrase (each text
    sets only those it mentions, directly or through another piece).
``[statuses]``
    ``unknown``: a status the file does not name, shown as data (``{{ raw }}`` is the status with
    ``_`` as spaces); ``[statuses.appointment]``, ``[statuses.order]``, ``[statuses.lead]``: status →
    label, each written to agree with that kind's noun.
``[TRIGGER.SITUATION]``
    ``sms`` (the ``short`` text after the greeting, and without it the ``brief`` one), ``title``
    (the ``title``), ``body`` (the paragraph of the ``text`` and ``html`` ones). The situations are
    those of `SITUATIONS`.

Phrases may use ``who`` (the recipient's name), ``client_name`` (the client's name, else the subject
id), ``what`` (the services' names), ``when`` and ``before`` (the start and the previous start, as
``[dates]`` writes them), ``where`` (the location's name), ``status`` (its label), ``verb``, the
pieces, and the whole template context (``subject``, ``data``, ...). Every optional value is ``""``
when missing, so ``{% if when %} on {{ when }}{% endif %}`` guards it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from tidings import PluginError, TemplateTexts

__all__ = ["LOCALES", "SITUATIONS", "default_texts", "phrases", "texts_from_file", "texts_of"]

LOCALES = ("en", "pl", "uk", "ru", "it")
NL = "{{ '\\n' }}"   # a line break that survives trim_blocks after a block tag
KINDS = ("appointment", "order", "lead")
WORDS = ("hello", "hello_mail", "bye", "when", "what", "where", "confirm", "cancel")
PARTS = ("sms", "title", "body")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# each trigger's situations, tested in this order (None: the remaining case)
SITUATIONS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "status-change": (
        ("staff", 'rule.recipient == "staff"'),
        ("order_created", 'subject.kind == "order" and verb == "created"'),
        ("order_ready", 'subject.kind == "order" and subject.status in ("ready", "ready_for_pickup", "ready_for_collection")'),
        ("order_working", 'subject.kind == "order" and subject.status in ("in_progress", "in_repair", "in_work", "processing")'),
        ("order_done", 'subject.kind == "order" and subject.status in ("completed", "done", "delivered", "collected")'),
        ("order_cancelled", 'subject.kind == "order" and subject.status in ("cancelled", "rejected")'),
        ("order_other", 'subject.kind == "order"'),
        ("lead_created", 'subject.kind == "lead" and verb == "created"'),
        ("lead_other", 'subject.kind == "lead"'),
        ("rescheduled", 'verb == "rescheduled"'),
        ("requested", 'subject.status == "pending"'),
        ("confirmed", 'subject.status == "confirmed"'),
        ("cancelled", 'subject.status == "cancelled"'),
        ("rejected", 'subject.status == "rejected"'),
        ("completed", 'subject.status == "completed"'),
        ("no_show", 'subject.status == "no_show"'),
        ("other", None),
    ),
    "pre-visit": (("staff", 'rule.recipient == "staff"'), ("order", 'subject.kind == "order"'), ("client", None)),
    "post-visit": (("client", None),),
    "repeat-visit": (("client", None),),
}
# the e-mails that list the visit's time, services and place, with the confirm / cancel links
WITH_DETAILS = ("status-change", "pre-visit")


# ---------------------------------------------------------------- phrase files


@functools.cache
def phrases(locale: str) -> Mapping[str, Any]:
    """The phrase table of one built-in locale, read once (PluginError naming the file if it is malformed)."""
    return _load(files(__name__) / f"{locale}.toml")


def _load(source: Traversable) -> dict[str, Any]:
    try:
        table = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise PluginError(f"texts {source.name}: cannot be read: {e}") from None
    problems = list(_problems(table))
    if problems:
        raise PluginError(f"texts {source.name}: " + "; ".join(problems))
    return table


def _problems(table: Mapping[str, Any]) -> Iterator[str]:
    """Everything missing or misspelt in a phrase table, so a language pack learns all of it at once."""
    expected = {"words": WORDS, "dates": ("long", "short"), **{t: tuple(s for s, _ in c) for t, c in SITUATIONS.items()}}
    for key in table:
        if key not in (*expected, "pieces", "statuses"):
            yield f"unknown table [{key}] (expected: {', '.join([*expected, 'pieces', 'statuses'])})"
    for section, keys in expected.items():
        found = table.get(section)
        if not isinstance(found, Mapping):
            yield f"[{section}] is missing"
            continue
        for key in keys:
            value = found.get(key)
            if section in SITUATIONS:
                if not isinstance(value, Mapping):
                    yield f"[{section}.{key}] is missing"
                    continue
                yield from (f"[{section}.{key}] has no {part!r}" for part in PARTS if not isinstance(value.get(part), str))
                yield from (f"[{section}.{key}] has an unknown key {part!r}" for part in value if part not in PARTS)
            elif not isinstance(value, str):
                yield f"[{section}] has no {key!r}"
        yield from (f"[{section}] has an unknown key {key!r}" for key in found if key not in keys)
    pieces, statuses = table.get("pieces", {}), table.get("statuses")
    if not isinstance(pieces, Mapping) or not isinstance(statuses, Mapping):
        yield "[pieces] and [statuses] must be tables"
        return
    yield from (f"[pieces] {name!r} must be a name (a-z, 0-9, _) with a string" for name, value in pieces.items()
                if not _NAME.match(name) or not isinstance(value, str))
    if not isinstance(statuses.get("unknown"), str):
        yield "[statuses] has no 'unknown'"
    for kind, labels in statuses.items():
        if kind == "unknown":
            continue
        if kind not in KINDS or not isinstance(labels, Mapping):
            yield f"[statuses.{kind}] is not a kind ({', '.join(KINDS)})"
            continue
        yield from (f"[statuses.{kind}] {status!r} must be a status name with a string label" for status, label in labels.items()
                    if not _NAME.match(status) or not isinstance(label, str))


# ---------------------------------------------------------------- assembly


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _prelude(table: Mapping[str, Any], dates: str) -> list[tuple[frozenset[str], str]]:
    """The variables every phrase may use, as (names it sets, statement); `dates` is "long" or "short".

    `_with_prelude` puts the statements a text needs at its top.
    """
    written: str = table["dates"][dates]
    statuses: Mapping[str, Any] = table["statuses"]
    pieces: Mapping[str, str] = table.get("pieces", {})
    unknown = "{% elif raw %}" + statuses["unknown"] + "{% endif %}"
    chain = "".join(
        ("{% if " if i == 0 else "{% elif ") + f'subject.kind == "{kind}" %}}'
        + "".join(("{% if " if j == 0 else "{% elif ") + f'subject.status == "{status}" %}}' + label
                  for j, (status, label) in enumerate(statuses.get(kind, {}).items()))
        + (unknown if statuses.get(kind) else "{% if raw %}" + statuses["unknown"] + "{% endif %}")
        for i, kind in enumerate(KINDS))
    return [
        (frozenset({"who"}), '{% set who = recipient.name if recipient and recipient.name else "" %}'),
        (frozenset({"client_name"}), '{% set client_name = client.name if client and client.name else subject.id %}'),
        (frozenset({"what"}), '{% set what = services | map(attribute="name") | select | join(", ") %}'),
        (frozenset({"where"}), '{% set where = location.name or "" %}'),
        (frozenset({"verb"}), '{% set verb = event.verb if event else "" %}'),
        (frozenset({"t", "when"}), '{% if subject.start %}{% set t = subject.start %}{% set when %}' + written + '{% endset %}'
                                   '{% else %}{% set when = "" %}{% endif %}'),
        (frozenset({"t", "before"}), '{% if previous and previous.start %}{% set t = previous.start %}{% set before %}'
                                     + written + '{% endset %}{% else %}{% set before = "" %}{% endif %}'),
        (frozenset({"raw"}), '{% set raw = (subject.status or "") | replace("_", " ") %}'),
        (frozenset({"status"}), '{% set status %}' + chain + '{% endif %}{% endset %}'),
        *((frozenset({name}), "{% set " + name + " %}" + piece + "{% endset %}") for name, piece in pieces.items()),
    ]


def _with_prelude(prelude: list[tuple[frozenset[str], str]], text: str) -> str:
    """`text` after the prelude's statements it needs, in their order: those setting a name it (or a
    statement kept) mentions. A statement only sets variables, so one whose names nothing mentions
    cannot change what the text writes; leaving it out saves its work at every render. Mentions are
    found as any identifier anywhere in the source, words of plain text included, so in doubt a
    statement is kept."""
    needed = set(_identifiers(text))
    kept: list[str] = []
    for names, statement in reversed(prelude):
        if names & needed:
            kept.append(statement)
            needed |= _identifiers(statement)
    return "".join(reversed(kept)) + text


@functools.lru_cache(maxsize=4096)
def _identifiers(source: str) -> frozenset[str]:
    return frozenset(_IDENTIFIER.findall(source))


def _branches(situations: Mapping[str, Mapping[str, str]], part: str, order: tuple[tuple[str, str | None], ...]) -> str:
    if len(order) == 1:
        return situations[order[0][0]][part]
    out = ""
    for i, (name, condition) in enumerate(order):
        text = situations[name][part]
        out += ("{% else %}" if condition is None else ("{% if " if i == 0 else "{% elif ") + condition + " %}") + text
    return out + "{% endif %}"


def _details(words: Mapping[str, str], *, html: bool) -> str:
    rows = [("when", "{{ when }}"), ("what", "{{ what }}"),
            ("where", "{{ where }}{% if location.address %}, {{ location.address }}{% endif %}")]
    if html:
        items = "".join("{% if " + key + " %}<li>" + words[key] + ": <strong>" + value + "</strong></li>{% endif %}"
                        for key, value in rows)
        return "{% if when or what or where %}<ul>" + items + "</ul>{% endif %}"
    return NL + "".join("{% if " + key + " %}" + NL + words[key] + ": " + value + "{% endif %}" for key, value in rows)


def _links(words: Mapping[str, str], *, html: bool) -> str:
    if html:
        return ('{% set confirm = confirm_url() %}{% set cancel = cancel_url() %}{% if confirm or cancel %}<p>'
                '{% if confirm %}<a href="{{ confirm }}">' + words["confirm"] + '</a>{% endif %}'
                '{% if confirm and cancel %} · {% endif %}'
                '{% if cancel %}<a href="{{ cancel }}">' + words["cancel"] + '</a>{% endif %}</p>{% endif %}')
    return ('{% set confirm = confirm_url() %}{% set cancel = cancel_url() %}'
            '{% if confirm %}' + NL + NL + words["confirm"] + ': {{ confirm }}{% endif %}'
            '{% if cancel %}{% if not confirm %}' + NL + '{% endif %}' + NL + words["cancel"] + ': {{ cancel }}{% endif %}')


def texts_of(trigger: str, table: Mapping[str, Any], locale: str) -> TemplateTexts:
    """The templates of one trigger in one locale, from a (checked) phrase table."""
    situations, words, order = table[trigger], table["words"], SITUATIONS[trigger]
    client_only = "{% if rule.recipient != 'staff' %}"
    long, short = _prelude(table, "long"), _prelude(table, "short")
    # the phrase goes on in lower case after a greeting that ends in a comma, and is capitalised otherwise
    # (an SMS to staff, a greeting that ends a sentence, a push body)
    phrase = "{% set text %}" + _branches(situations, "sms", order) + "{% endset %}"
    capitalised = "{{ text[:1] | upper }}{{ text[1:] }}"
    sms = _with_prelude(short, phrase + client_only + "{% set hello %}" + words["hello"]
                        + "{% endset %}{% else %}{% set hello = '' %}{% endif %}"
                        "{{ hello }}{% if hello[-2:] == ', ' %}{{ text }}{% else %}" + capitalised + "{% endif %}")
    title = _with_prelude(long, _branches(situations, "title", order))
    body = _branches(situations, "body", order)
    details = trigger in WITH_DETAILS
    text = _with_prelude(long, client_only + words["hello_mail"] + NL + NL + "{% endif %}" + body
                         + (_details(words, html=False) + client_only + _links(words, html=False) + "{% endif %}"
                            if details else "")
                         + client_only + NL + NL + words["bye"] + "{% endif %}")
    html = _with_prelude(long, client_only + "<p>" + words["hello_mail"] + "</p>{% endif %}<p>" + body + "</p>"
                         + (_details(words, html=True) + client_only + _links(words, html=True) + "{% endif %}"
                            if details else "")
                         + client_only + "<p>" + words["bye"] + "</p>{% endif %}")
    return TemplateTexts(name=trigger, locale=locale, texts={
        "short": sms, "title": title, "text": text, "html": html, "brief": _with_prelude(long, phrase + capitalised),
    })


def texts_from_file(source: Traversable, *, locale: str | None = None) -> tuple[TemplateTexts, ...]:
    """Every trigger's texts from one phrase file (a language pack); the locale is the file's stem unless given."""
    table = _load(source)
    name = locale or source.name.removesuffix(".toml")
    return tuple(texts_of(trigger, table, name) for trigger in SITUATIONS)


def default_texts(name: str) -> tuple[TemplateTexts, ...]:
    """The built-in texts of one trigger, one per locale (empty for an unknown trigger)."""
    if name not in SITUATIONS:
        return ()
    return tuple(texts_of(name, phrases(locale), locale) for locale in LOCALES)
