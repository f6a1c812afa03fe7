"""Message templates (PRODUCT §4): sandboxed Jinja, resolved by name, channel and locale.

Templates are written by deployers and tenants, so they are untrusted. They run in Jinja's
`ImmutableSandboxedEnvironment` with `StrictUndefined` (an unknown variable is an error, never a
blank in a client's message), HTML parts alone are autoescaped, and every render runs on a budget:
loop iterations and calls are counted, ``*``, ``**`` and ``%`` refuse huge results, filter sizes are
capped and output beyond `MAX_PART` characters stops the render.

Where texts come from, first match wins:

1. the deployer's directory ``[tidings].templates``: ``DIR/NAME/LOCALE/sms.txt``, ``email.subject``,
   ``email.txt``, ``email.html``, ``push.title``, ``push.body`` (``DIR/NAME/`` itself holds the
   texts for every other locale); any other channel's part is ``CHANNEL.PART``;
2. the config's ``[templates.NAME]`` tables: ``sms = "..."``, ``email = {subject, text, html}``,
   ``push = {title, body}``, and the same keys in ``[templates.NAME.LOCALE]`` subtables;
3. the texts plugins register (`tidings_template_texts`): the triggers' built-in defaults.

A rule uses its `template`, or its trigger's built-in texts when it names none; a deployer template
that has no text for a channel falls back to the trigger's built-in text for it. Locales resolve
recipient locale → its language (``pl_PL`` → ``pl``) → the template's unlocalised texts →
``[tidings].locale`` → ``en``; whichever text is used, its filters write dates in the recipient's
locale (`Templates.format_locale`).
"""

from __future__ import annotations

import contextvars
import difflib
import functools
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jinja2
from attrs import define, field
from babel import Locale, UnknownLocaleError
from jinja2 import TemplateSyntaxError, nodes, pass_context
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from tidings import builtins
from tidings.errors import Problem, TemplateError

if TYPE_CHECKING:
    from tidings.models import Contact, Event, Previous, Subject
    from tidings.plugin_types import TemplateFilter, TemplateGlobal
    from tidings.registry import Registry
    from tidings.rules import Config, Links, Location, Rule

__all__ = ["MAX_PART", "Templates", "build_context", "check_templates", "locale_chain", "render_text",
           "sample_context", "template_problems"]

MAX_PART = 64_000            # characters of one rendered part
MAX_STEPS = 50_000           # loop iterations plus calls in one render
MAX_BUILT = 1_000_000        # characters all the strings of one render may add up to
MAX_BITS = 4_096             # the largest integer, in bits, arithmetic in a template may make
RENDER_SECONDS = 2.0         # the longest one render may take
MAX_NUMBER = 100_000         # the largest integer a filter argument or a repetition may use
FILES = {"txt": "text"}      # sms.txt and email.txt hold the part "text"; other files are CHANNEL.PART
KNOWN_CHANNELS = ("sms", "email", "push")
_LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
_DANGEROUS = {"mro", "gi_frame", "gi_code", "cr_frame", "f_globals", "f_locals", "f_builtins", "func_globals",
              "func_code", "tb_frame", "ag_frame", "format_map", "subclasses"}

CONTACT = ("id", "name", "first_name", "phone", "email", "locale")
SERVICE = ("id", "name", "category")
SHAPES: dict[str, tuple[str, ...]] = {
    "client": CONTACT, "staff": CONTACT, "recipient": CONTACT,
    "subject": ("id", "kind", "status", "start", "end", "location", "services", "data", "client", "staff"),
    "previous": ("status", "start"),
    "location": ("id", "name", "address", "phone", "timezone"),
    "rule": ("id", "trigger", "kind", "recipient", "template"),
    "event": ("id", "type", "kind", "verb", "occurred_at"),
}
ITEMS: dict[str, tuple[str, ...]] = {"services": SERVICE}     # the lists a template sees, by the shape of their items
VARIABLES = (*SHAPES, "services", "data")
# what a template calls a value by its keys, for the message of an undefined attribute
_SHAPE_NAMES = {frozenset(SERVICE): "a service", frozenset(CONTACT): "a contact (client, staff or recipient)",
                **{frozenset(keys): name for name, keys in SHAPES.items() if keys is not CONTACT}}
_HIDDEN = ("_zone", "_locale", "_now")     # read by the filters and link globals, not meant for authors
_DICT_READERS = ("get", "items", "keys", "values")

_budget: contextvars.ContextVar[Budget] = contextvars.ContextVar("tidings_template_budget")


# ---------------------------------------------------------------- the sandbox


@define
class Budget:
    """What one render may still spend: steps (loop iterations and calls), characters built, and time.

    Every string a template builds is paid for: before it is allocated where its size can run away
    (repetition, padding, ``replace``, ``join``, ``%`` and ``format`` widths), after it where its size is
    at most the sum of what was already paid (``+``, ``~``, other filters and methods). So no template
    can make a worker allocate more than about `MAX_BUILT` characters, or run longer than `seconds`.
    """

    steps: int = MAX_STEPS
    chars: int = MAX_BUILT
    deadline: float = 0.0

    def spend(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise SecurityError(f"the template does too much work (more than {MAX_STEPS} loop steps and calls)")
        if self.steps % 64 == 0 and time.monotonic() > self.deadline:
            raise SecurityError(f"the template takes too long to render (more than {RENDER_SECONDS:g} s)")

    def build(self, size: int) -> None:
        self.chars -= size
        if self.chars < 0:
            raise SecurityError(f"the template builds too much text (more than {MAX_BUILT} characters in all)")


def _spend(n: int = 1) -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.spend(n)


def _build(size: int) -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.build(size)


def _paid(value: Any) -> Any:
    """Charge a value already built to the budget, and hand it on."""
    if isinstance(value, (str, list, tuple)):
        _build(len(value))
    return value


def guard_iter(iterable: Any) -> Iterator[Any]:
    """Every ``{% for %}`` loop runs through this: each step is paid from the render's budget."""
    for item in iterable:
        _spend()
        yield item


def guard_built(value: Any) -> Any:
    """Every ``~`` concatenation runs through this: what it built is paid for."""
    return _paid(value)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _text_size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value)) if isinstance(value, (int, float)) else _size(value)


def _large_int(value: Any, limit: int = MAX_NUMBER) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit


# a format spec's width or precision: '%999s', '%.999f', '{:>999}', '{0:.999}'
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(?:\d{4,}|\*)|%[-+ #0]*\d*\.(?:\d{4,}|\*)")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(?:\d{4,}|\{)")


def _estimate(method: str, text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int | None:
    """The size of what a str method (or the filter of the same name) would build, or None if it is small."""
    values = [*args, *kwargs.values()]
    if method == "replace" and len(values) >= 2 and isinstance(values[0], str) and isinstance(values[1], str):
        count = text.count(values[0]) if values[0] else len(text) + 1
        return len(text) + count * max(0, len(values[1]) - len(values[0]))
    if method in ("zfill", "ljust", "rjust", "center", "indent", "expandtabs", "wordwrap", "truncate"):
        widths = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        if method == "indent":
            return len(text) + (text.count("\n") + 1) * max((abs(w) for w in widths), default=4)
        if method == "expandtabs":
            return len(text) + text.count("\t") * max((abs(w) for w in widths), default=8)
        return max([len(text), *(abs(w) for w in widths)])
    if method == "join" and values and isinstance(values[0], (list, tuple)):
        return sum(_text_size(v) for v in values[0]) + len(text) * len(values[0])
    return None


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a budget on work, time, and the size of everything it builds."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        _spend()
        if operator_ == "**":
            if isinstance(right, (int, float)) and abs(right) > 64 or isinstance(left, (int, float)) and abs(left) > MAX_NUMBER:
                raise SecurityError("'**' with a large operand is not allowed in templates")
            return left ** right
        if operator_ == "*":
            count = right if isinstance(left, (str, list, tuple)) else left if isinstance(right, (str, list, tuple)) else None
            if isinstance(count, int) and count * max(_size(left), _size(right)) > MAX_PART:
                raise SecurityError(f"a repetition longer than {MAX_PART} is not allowed in templates")
            if isinstance(count, int):
                _build(count * max(_size(left), _size(right)))
            elif isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS:
                raise SecurityError(f"a number larger than {MAX_BITS} bits is not allowed in templates")
            return left * right
        if operator_ == "+":
            if isinstance(left, int) and isinstance(right, int) and max(left.bit_length(), right.bit_length()) > MAX_BITS:
                raise SecurityError(f"a number larger than {MAX_BITS} bits is not allowed in templates")
            return _paid(left + right)
        # a '%' format: its widths are checked before the string is built
        if isinstance(left, str):
            operands = right if isinstance(right, tuple) else (right,)
            if _PERCENT_WIDTH.search(left) and (re.search(r"\d{4,}", left) or any(_large_int(v, 999) for v in operands)):
                raise SecurityError("a '%' format wider than 999 is not allowed in templates")
            _build(len(left) + sum(_text_size(v) for v in operands) + 999 * left.count("%"))
        return left % right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja's signature)
        _spend()
        target = getattr(__obj, "__wrapped__", __obj)     # str.format arrives wrapped by the sandbox
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            name = getattr(target, "__name__", "")
            if any(_large_int(v) for v in (*args, *kwargs.values())):
                raise SecurityError(f"a number larger than {MAX_NUMBER} is not allowed as an argument in templates")
            if name in ("format", "format_map"):
                if _BRACE_WIDTH.search(owner) and (re.search(r"\d{4,}", owner) or any(_large_int(v, 999) for v in args)):
                    raise SecurityError("a format wider than 999 is not allowed in templates")
                _build(len(owner) + sum(_text_size(v) for v in (*args, *kwargs.values())))
            else:
                estimate = _estimate(name, owner, args, kwargs)
                if estimate is not None:
                    _build(estimate)
        return _paid(super().call(__context, __obj, *args, **kwargs))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):   # every loop pays per step: nested loops cannot run away
            loop.iter = nodes.Call(nodes.ImportedName("tidings.templates.guard_iter"), [loop.iter], [], None, None)
        return _PayForConcat().visit(tree)     # type: ignore[no-any-return]


class _PayForConcat(NodeTransformer):
    """Rewrites ``a ~ b`` into ``guard_built(a ~ b)``: what a concatenation builds is paid for."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (jinja's visitor naming)
        self.generic_visit(node)
        return nodes.Call(nodes.ImportedName("tidings.templates.guard_built"), [node], [], None, None, lineno=node.lineno)


class StrictUndefined(jinja2.StrictUndefined):
    """An undefined value that is an error wherever it is used, not only where it is printed.

    Jinja's `StrictUndefined` refuses ``{{ x }}``, ``x == 1`` and ``for``, but its ``repr`` is
    ``Undefined``, so ``{{ services | map(attribute='nmae') | list }}`` (``map`` and ``attr`` hand back
    one undefined value per item, through `environment.getattr`) would print ``[Undefined]`` into a
    client's SMS; `ChainableUndefined` would hide even more. Here ``repr`` (a list, tuple or dict
    printed whole, ``pprint``, ``'%r'``), formatting, rounding and JSON refuse too, and the message
    names the value that lacks the key.
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint or obj is jinja2.utils.missing or not isinstance(obj, Mapping) or not isinstance(name, str):
            return str(super()._undefined_message)
        keys = [str(k) for k in obj]
        return f"{_SHAPE_NAMES.get(frozenset(keys), 'a value')} has no {name!r}{_suggest(name, keys)}"

    def __repr__(self) -> str:
        raise self._undefined_exception(f"{self._undefined_message}, so the list or value holding it cannot be printed")

    __format__ = __abs__ = __round__ = __index__ = __trunc__ = __floor__ = __ceil__ = \
        jinja2.StrictUndefined._fail_with_undefined_error


def _json_default(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")


def _capped(function: Any, name: str = "") -> Any:
    """Wrap a filter so that huge numeric arguments (``center(10**9)``) and huge results are refused.

    A filter that can build far more than it is given (``replace``, ``indent``, ``center``, ``join``,
    ``format``) is paid for before it runs; every other filter's result is paid for after.
    """
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1     # the context and the value are not arguments

    @functools.wraps(function)   # keeps jinja's pass_context / pass_eval_context marker
    def filter_(*args: Any, **kwargs: Any) -> Any:
        _spend()
        for value in (*args[skip:], *kwargs.values()):
            if _large_int(value):
                raise SecurityError(f"a filter argument larger than {MAX_NUMBER} is not allowed in templates")
        if len(args) >= skip:
            subject = args[skip - 1]
            if name == "format" and isinstance(subject, str):
                if _PERCENT_WIDTH.search(subject) and (re.search(r"\d{4,}", subject) or any(_large_int(v, 999) for v in args[skip:])):
                    raise SecurityError("a '%' format wider than 999 is not allowed in templates")
                _build(len(subject) + sum(_text_size(v) for v in args[skip:]) + 999 * subject.count("%"))
            elif name == "join" and isinstance(subject, (list, tuple)):
                separator = args[skip] if len(args) > skip and isinstance(args[skip], str) else str(kwargs.get("d", ""))
                _build(_estimate("join", separator, (subject,), {}) or 0)
            elif isinstance(subject, str):
                estimate = _estimate(name, subject, args[skip:], kwargs)
                if estimate is not None:
                    _build(estimate)
        result = function(*args, **kwargs)
        if _size(result) > MAX_PART:
            raise SecurityError(f"a filter result longer than {MAX_PART} is not allowed in templates")
        return _paid(result)
    return filter_


def make_environment(*, filters: Iterable[TemplateFilter] | None = None, globals: Iterable[TemplateGlobal] | None = None,
                     links: Links | None = None, html: bool = False) -> Sandbox:
    """A sandbox with these filters and globals (by default the core's own) and the ``[links]`` its link globals sign with."""
    env = Sandbox(undefined=StrictUndefined, autoescape=html, trim_blocks=True, lstrip_blocks=True,
                  keep_trailing_newline=False, auto_reload=False, cache_size=0)
    for unsafe in ("cycler", "joiner", "lipsum", "namespace"):
        env.globals.pop(unsafe, None)   # lipsum builds unbounded text; none of them is needed in a message
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "default": _json_default}   # `tojson` refuses undefined values
    for flt in builtins.tidings_template_filters() if filters is None else filters:
        env.filters[flt.name] = pass_context(_bind(flt.function)) if flt.needs_context else flt.function
    for glob in builtins.tidings_template_globals() if globals is None else globals:
        env.globals[glob.name] = pass_context(_bind(glob.value)) if glob.needs_context and callable(glob.value) else glob.value
    env.filters = {name: _capped(fn, name) for name, fn in env.filters.items()}
    env.tidings_links = links   # type: ignore[attr-defined]  # read by the link globals
    return env


def registry_environment(registry: Registry, links: Links | None, *, html: bool) -> Sandbox:
    """A sandbox with the filters and globals of a registry's plugins (the core's own among them)."""
    return make_environment(filters=registry.filters.values(), globals=registry.globals.values(), links=links, html=html)


def _bind(function: Any) -> Any:
    def bound(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)
    return bound


def render_source(env: Sandbox, source: str | Any, context: Mapping[str, Any], *, where: str = "template") -> str:
    """Render one template (a source string or a compiled Template) on a fresh budget; TemplateError on any fault."""
    token = _budget.set(Budget(deadline=time.monotonic() + RENDER_SECONDS))
    try:
        template = env.from_string(source) if isinstance(source, str) else source
        out: list[str] = []
        size = 0
        for chunk in template.generate(dict(context)):
            size += len(chunk)
            if size > MAX_PART:
                raise SecurityError(f"the rendered text is longer than {MAX_PART} characters")
            out.append(chunk)
        return "".join(out).strip()
    except TemplateSyntaxError as e:
        raise TemplateError(f"{where}: line {e.lineno}: {e.message}") from None
    except SecurityError as e:
        raise TemplateError(f"{where}: refused by the sandbox: {e}") from None
    except UndefinedError as e:
        raise TemplateError(f"{where}: {_undefined(e)}") from None
    except RecursionError:
        raise TemplateError(f"{where}: refused by the sandbox: recursion too deep") from None
    except MemoryError:
        raise TemplateError(f"{where}: refused by the sandbox: out of memory") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        raise TemplateError(f"{where}: {type(e).__name__}: {e}") from None
    finally:
        _budget.reset(token)


def render_text(source: str, context: Mapping[str, Any], *, locale: str = "en", zone: str = "UTC",
                html: bool = False, registry: Registry | None = None) -> str:
    """Render one template string with the core's filters (or a registry's), in a locale and time zone (tests, previews)."""
    env = make_environment(html=html) if registry is None else registry_environment(registry, None, html=html)
    return render_source(env, source, {**context, "_locale": locale, "_zone": zone})


def _undefined(e: UndefinedError) -> str:
    message = str(e.message or e)
    found = re.match(r"'(\w+)' is undefined", message)
    if found:
        return f"unknown variable {found.group(1)!r}{_suggest(found.group(1), VARIABLES)}"
    return message


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(choices)})"


# ---------------------------------------------------------------- locales


def normalize_locale(value: str) -> str:
    """``pl-pl`` → ``pl_PL``; ``UK`` → ``uk``."""
    lang, _, region = value.replace("-", "_").partition("_")
    return f"{lang.lower()}_{region.upper()}" if region else lang.lower()


def locale_chain(*preferred: str | None, last: str | None = "en") -> list[str]:
    """The locales to try, best first: each preferred one and its language, then `last` (``en``)."""
    chain: list[str] = []
    for value in (*preferred, last):
        if not value:
            continue
        full = normalize_locale(value)
        for candidate in (full, full.split("_")[0]):
            if candidate not in chain:
                chain.append(candidate)
    return chain


@functools.cache
def _babel_knows(locale: str) -> bool:
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return False
    return True


# ---------------------------------------------------------------- context


def _contact(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    name = contact.name or ""
    return {"id": contact.id, "name": name, "first_name": name.split(" ")[0] if name else "",
            "phone": contact.phone, "email": contact.email, "locale": contact.locale}


def build_context(*, config: Config, rule: Rule, subject: Subject, previous: Previous | None, event: Event | None,
                  recipient: Contact | None, location: Location, now: datetime | None = None,
                  services: Iterable[str] | None = None) -> dict[str, Any]:
    """What a template sees (PRODUCT §4): plain dicts and lists, nothing with Python behaviour.

    Args:
        services: the ids of the services the message is about (a trigger's `Send.services`): the
            template's `services` lists the subject's services of those ids, each once; None lists all.
            `subject.services` is always the whole visit.
    """
    every = [{"id": s.id, "name": s.name, "category": s.category} for s in subject.services]
    client, staff, data = _contact(subject.client), _contact(subject.staff), dict(subject.data)
    zone = location.timezone or config.tidings.timezone
    moment = now or (event.occurred_at if event is not None else None)
    return {
        "client": client,
        "staff": staff,
        "recipient": _contact(recipient),
        "subject": {"id": subject.id, "kind": event.kind if event is not None else rule.kind, "status": subject.status,
                    "start": subject.start, "end": subject.end, "location": subject.location,
                    "services": every, "data": data, "client": client, "staff": staff},
        "previous": None if previous is None else {"status": previous.status, "start": previous.start},
        "services": every if services is None else _about(every, services),
        "location": {"id": location.id, "name": location.name, "address": location.address, "phone": location.phone,
                     "timezone": str(zone)},
        "rule": {"id": rule.id, "trigger": rule.trigger, "kind": rule.kind, "recipient": rule.recipient,
                 "template": rule.template},
        "data": data,
        "event": None if event is None else {"id": event.id, "type": event.type, "kind": event.kind, "verb": event.verb,
                                             "occurred_at": event.occurred_at},
        "_zone": str(zone),
        "_locale": (recipient.locale if recipient is not None else None) or config.tidings.locale,
        "_now": moment,
    }


def _about(services: list[dict[str, Any]], ids: Iterable[str]) -> list[dict[str, Any]]:
    """The services of these ids, in the visit's order, each id once (a visit may list one service twice)."""
    wanted = set(ids)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for service in services:
        if service["id"] in wanted and service["id"] not in seen:
            seen.add(service["id"])
            out.append(service)
    return out


class Deployed(Protocol):
    """What the sample functions need of a deployment: its configuration and its plugins (a `Deployment`)."""

    @property
    def config(self) -> Config: ...

    @property
    def registry(self) -> Registry: ...


def sample_event(deployed: Deployed, rule: Rule) -> Event:
    """A full event of the rule's kind (every optional field set), for `check` and `preview`."""
    from tidings.models import Event
    config = deployed.config
    trigger = deployed.registry.triggers.get(rule.trigger)
    if trigger is not None and trigger.sample is not None:
        return trigger.sample()
    location = rule.locations[0] if rule.locations else next(iter(config.locations), None)
    start = datetime(2026, 3, 10, 14, 0, tzinfo=config.zone(location))
    return Event.from_dict({
        "id": "evt-sample", "type": f"{rule.kind}.status_changed", "occurred_at": (start - timedelta(days=8)).isoformat(),
        "subject": {"id": "sample-1", "status": "confirmed", "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(), "location": location,
                    "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                    "staff": {"id": "s-1", "name": "Anna Kowalska", "phone": "+48600000001", "email": "anna@salon.example"},
                    "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48600100200", "email": "ola@example.com",
                               "locale": config.tidings.locale, "consents": {"sms": True, "email": True, "push": True}},
                    "data": {"price": "120 PLN"}},
        "previous": {"status": "pending", "start": (start - timedelta(days=1)).isoformat()},
    })


class SampleData(dict[str, Any]):
    """A sample's free-form `data`: any key a template reads has a placeholder value."""

    def __missing__(self, key: str) -> str:
        return f"[{key}]"


def sample_context(deployed: Deployed, rule: Rule, *, event: Event | None = None, locale: str | None = None) -> dict[str, Any]:
    """The context a rule's template sees for a sample (or the given) event."""
    from tidings.models import evolve
    config = deployed.config
    event = event or sample_event(deployed, rule)
    subject = event.subject
    recipient = subject.client if rule.recipient == "client" else subject.staff
    if locale is not None and recipient is not None:
        recipient = evolve(recipient, locale=locale)
    context = build_context(config=config, rule=rule, subject=subject, previous=event.previous, event=event,
                            recipient=recipient, location=config.location(subject.location), now=event.occurred_at)
    context["data"] = context["subject"]["data"] = SampleData(context["data"])
    if locale is not None:
        context["_locale"] = locale
    return context


# ---------------------------------------------------------------- sources


Texts = dict[str, dict[str, str]]                 # channel -> part -> source
Sources = dict[str, dict[str | None, Texts]]      # name -> locale (None: unlocalised) -> texts


@define
class Templates:
    """Every template a configuration can use, compiled once, rendered per message."""

    config: Config
    registry: Registry
    deployer: Sources
    builtin: Sources
    places: dict[tuple[str, str | None, str, str], str] = field(factory=dict)   # where each deployer text is written
    problems: list[Problem] = field(factory=list)                                 # found while loading
    _envs: dict[bool, Sandbox] = field(factory=dict)
    _compiled: dict[tuple[str, bool], Any] = field(factory=dict)

    @classmethod
    def build(cls, config: Config, registry: Registry) -> Templates:
        """The templates of a configuration, with the texts, filters and globals of its registry's plugins.

        Sources that cannot be read are kept in `problems` (``tidings check`` reports them), not raised.
        """
        problems: list[Problem] = []
        places: dict[tuple[str, str | None, str, str], str] = {}
        deployer: Sources = {}
        _from_tables(config, registry, deployer, places, problems)
        if config.tidings.templates:
            base = (config.path.parent if config.path is not None else Path.cwd()) / config.tidings.templates
            _from_directory(base, config, registry, deployer, places, problems)
        builtin: Sources = {}
        for texts in registry.texts:
            entry = builtin.setdefault(texts.name, {}).setdefault(normalize_locale(texts.locale), {})
            for channel, parts in texts.channels.items():
                entry.setdefault(channel, {}).update(parts)
        return cls(config=config, registry=registry, deployer=deployer, builtin=builtin, places=places, problems=problems)

    def env(self, html: bool) -> Sandbox:
        if html not in self._envs:
            self._envs[html] = registry_environment(self.registry, self.config.links, html=html)
        return self._envs[html]

    def compiled(self, source: str, html: bool) -> Any:
        key = (source, html)
        if key not in self._compiled:
            try:
                self._compiled[key] = self.env(html).from_string(source)
            except TemplateSyntaxError as e:
                raise TemplateError(f"line {e.lineno}: {e.message}") from None
            except (RecursionError, MemoryError):
                raise TemplateError("refused by the sandbox: the template is nested too deeply") from None
        return self._compiled[key]

    def names(self) -> set[str]:
        return set(self.deployer) | set(self.builtin)

    def resolve(self, rule: Rule, channel: str, locale: str | None) -> tuple[str | None, str, Mapping[str, str]] | None:
        """(locale, template name, part sources) of the text a rule sends through a channel, or None."""
        trigger = self.registry.triggers.get(rule.trigger)
        default = trigger.default_template if trigger is not None else None
        name = rule.template or default or ""
        chain = locale_chain(locale, self.config.tidings.locale)
        # the recipient's own locale first, then the template's unlocalised texts, then the configured locale and en
        own = locale_chain(locale, last=None)
        deployer = self.deployer.get(name, {})
        for loc in [*own, None, *chain]:
            texts = deployer.get(loc, {}).get(channel)
            if texts:
                return loc, name, texts
        for candidate in dict.fromkeys(n for n in (name, default) if n):
            builtin = self.builtin.get(candidate, {})
            for loc in chain:
                texts = builtin.get(loc, {}).get(channel)
                if texts:
                    return loc, candidate, texts
        return None

    def format_locale(self, recipient: str | None, text: str | None) -> str:
        """The locale the ``datetime``, ``date`` and ``time`` filters (and ``money``, ``duration``) write in.

        Always the recipient's: a localised text in the recipient's language is in that language
        already (``pl_PL`` formats a ``pl`` text's dates the Polish way, with its regional details),
        and an unlocalised text, or another language's text used as a fallback, still gives the
        recipient a date they read at a glance ("10 mar 2026, 14:00", never "2:00 PM" for a Polish
        client). Only a locale Babel does not know falls back: to the text's, then ``[tidings].locale``.
        """
        for candidate in locale_chain(recipient, text, self.config.tidings.locale):
            if _babel_knows(candidate):
                return candidate
        return "en"

    def render(self, *, rule: Rule, channel: str, parts: Iterable[str], context: Mapping[str, Any],
               locale: str | None) -> dict[str, str]:
        """The rendered parts of a rule's message for one channel; TemplateError if it cannot be."""
        found = self.resolve(rule, channel, locale)
        if found is None:
            raise TemplateError(f"template {rule.template or rule.trigger!r} has no text for channel {channel!r}")
        used, name, sources = found
        context = {**context, "_locale": self.format_locale(locale or context.get("_locale"), used)}
        out: dict[str, str] = {}
        for part in parts:
            if part in sources:
                where = f"template {name!r} ({used or 'default'}) {channel}.{part}"
                try:
                    template = self.compiled(sources[part], part == "html")
                except TemplateError as e:
                    raise TemplateError(f"{where}: {e}") from None
                out[part] = render_source(self.env(part == "html"), template, context, where=where)
        return out


def _channel_names(config: Config, registry: Registry) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*config.plugins.channels, *registry.channels, *KNOWN_CHANNELS]))


def _parts_of(registry: Registry, channel: str) -> tuple[str, ...] | None:
    found = registry.channels.get(channel)
    if found is not None:
        return found.parts
    return {"sms": ("text",), "email": ("subject", "text", "html"), "push": ("title", "body")}.get(channel)


def _texts(config: Config, registry: Registry, table: Mapping[str, Any], where: str, name: str, locale: str | None,
           places: dict[tuple[str, str | None, str, str], str], problems: list[Problem]) -> tuple[Texts, dict[str, Any]]:
    """The channel texts of one table; returns them and the keys that are not channels (locales)."""
    texts: Texts = {}
    rest: dict[str, Any] = {}
    channels = _channel_names(config, registry)
    for key, value in table.items():
        if key not in channels:
            rest[key] = value
            continue
        parts = _parts_of(registry, key) or ("text",)
        if isinstance(value, str):
            part = "text" if "text" in parts else parts[0]
            texts[key] = {part: value}
            places[(name, locale, key, part)] = f"{where}.{key}"
        elif isinstance(value, Mapping):
            for part, source in value.items():
                if part not in parts:
                    problems.append(Problem(f"{where}.{key}.{part}", f"{key} has no part {part!r}{_suggest(part, parts)}"))
                elif not isinstance(source, str):
                    problems.append(Problem(f"{where}.{key}.{part}", "must be a string (a Jinja template)"))
                else:
                    texts.setdefault(key, {})[part] = source
                    places[(name, locale, key, part)] = f"{where}.{key}.{part}"
        else:
            problems.append(Problem(f"{where}.{key}", f"must be a string or a table of parts ({', '.join(parts)})"))
    return texts, rest


def _from_tables(config: Config, registry: Registry, into: Sources, places: dict[tuple[str, str | None, str, str], str],
                 problems: list[Problem]) -> None:
    channels = _channel_names(config, registry)
    for name, table in config.templates.items():
        where = f"templates.{name}"
        if not isinstance(table, Mapping):
            problems.append(Problem(where, "must be a table: [templates.NAME] with sms, email, push or locale subtables"))
            continue
        texts, rest = _texts(config, registry, table, where, name, None, places, problems)
        if texts:
            into.setdefault(name, {})[None] = texts
        for key, value in rest.items():
            if _LOCALE.match(key) and isinstance(value, Mapping):
                locale = normalize_locale(key)
                localised, unknown = _texts(config, registry, value, f"{where}.{key}", name, locale, places, problems)
                into.setdefault(name, {})[locale] = localised
                for bad in unknown:
                    problems.append(Problem(f"{where}.{key}.{bad}", f"{bad!r} is not a channel{_suggest(bad, channels)}"))
            else:
                problems.append(Problem(f"{where}.{key}", f"{key!r} is neither a channel{_suggest(key, channels)[:-1]}) "
                                                          "nor a locale subtable like [templates.NAME.pl]"))


def _from_directory(base: Path, config: Config, registry: Registry, into: Sources,
                    places: dict[tuple[str, str | None, str, str], str], problems: list[Problem]) -> None:
    if not base.is_dir():
        problems.append(Problem("tidings.templates", f"{str(base)!r} is not a directory"))
        return
    channels = _channel_names(config, registry)

    def load(folder: Path, name: str, locale: str | None) -> None:
        for file in sorted(folder.iterdir()):
            if file.is_dir():
                continue
            channel, _, ext = file.name.partition(".")
            part = FILES.get(ext, None if ext == "text" else ext)
            parts = _parts_of(registry, channel)
            where = str(file.relative_to(base.parent)) if base.parent in file.parents else str(file)
            if channel not in channels or parts is None or part is None or part not in parts:
                allowed = [f"{c}.{'txt' if p == 'text' else p}" for c in channels for p in (_parts_of(registry, c) or ())]
                problems.append(Problem(where, f"unknown template file {file.name!r}{_suggest(file.name, allowed)}"))
                continue
            try:
                source = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                problems.append(Problem(where, f"cannot be read: {e}"))
                continue
            into.setdefault(name, {}).setdefault(locale, {}).setdefault(channel, {})[part] = source.rstrip("\n")
            places[(name, locale, channel, part)] = where

    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        load(folder, folder.name, None)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not _LOCALE.match(sub.name):
                problems.append(Problem(str(sub.relative_to(base.parent)), f"{sub.name!r} is not a locale (like pl or pt_BR)"))
                continue
            load(sub, folder.name, normalize_locale(sub.name))


# ---------------------------------------------------------------- check


def template_problems(env: Sandbox, source: str, where: str) -> list[Problem]:
    """What is wrong with one template source, found without running it: syntax, unknown names, unsafe reach."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as e:
        return [Problem(where, f"line {e.lineno}: {e.message}")]
    except (RecursionError, MemoryError):
        return [Problem(where, "refused by the sandbox: the template is nested too deeply")]
    problems: list[Problem] = []
    known = {*VARIABLES, *_HIDDEN, *env.globals}
    for name in sorted(find_undeclared_variables(tree) - known):
        problems.append(Problem(where, f"unknown variable {name!r}{_suggest(name, VARIABLES)}"))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attr = node.attr if isinstance(node, nodes.Getattr) else (node.arg.value if isinstance(node.arg, nodes.Const) else None)
        if not isinstance(attr, str):
            continue
        if attr.startswith("_") or attr in _DANGEROUS:
            problems.append(Problem(where, f"line {node.lineno}: reaches {attr!r}, which templates may not use "
                                           "(the sandbox refuses Python internals)"))
        elif isinstance(node.node, nodes.Name) and node.node.name in SHAPES and node.node.ctx == "load" \
                and attr not in SHAPES[node.node.name] and attr not in _DICT_READERS:
            shape = SHAPES[node.node.name]
            problems.append(Problem(where, f"line {node.lineno}: {node.node.name} has no {attr!r}{_suggest(attr, shape)}"))
    problems.extend(Problem(where, message) for message in _attribute_problems(tree))
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in ("confirm_url", "cancel_url"):
            links = getattr(env, "tidings_links", None)
            if links is not None and not (links.base_url and links.secret):
                problems.append(Problem(where, f"line {call.lineno}: {call.node.name}() needs [links].base_url and a secret "
                                               "([links].secret or TIDINGS_LINK_SECRET)"))
    return problems


# filters that read one attribute of each item, and the position of `attribute` among their arguments
# (None: only as the keyword); their undefined results would otherwise show only on some data
_ATTRIBUTE_FILTERS: dict[str, int | None] = {"map": None, "selectattr": 0, "rejectattr": 0, "groupby": 0, "sum": 0,
                                             "sort": 2, "unique": 1, "min": 1, "max": 1, "join": 1}
_SAME_ITEMS = frozenset({"list", "sort", "reverse", "unique", "select", "reject", "selectattr", "rejectattr"})
_ONE_ITEM = frozenset({"first", "last", "random", "min", "max"})


def _const_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    return node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None


def _items_of(node: nodes.Node | None, stored: set[str]) -> tuple[str, ...] | None:
    """The keys of each item of a list expression (``services``, ``subject.services | sort``), if known."""
    if isinstance(node, nodes.Name):
        return ITEMS.get(node.name) if node.name not in stored else None
    if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) \
            and node.node.name == "subject" and "subject" not in stored and _const_name(node) == "services":
        return SERVICE
    if isinstance(node, nodes.Filter) and node.name in _SAME_ITEMS:
        return _items_of(node.node, stored)
    return None


def _shape_of(node: nodes.Node | None, stored: set[str]) -> tuple[str, ...] | None:
    """The keys of a value (``client``, ``subject.staff``, ``services | first``), if known."""
    if isinstance(node, nodes.Name):
        return SHAPES.get(node.name) if node.name not in stored else None
    if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) \
            and node.node.name == "subject" and "subject" not in stored and _const_name(node) in ("client", "staff"):
        return CONTACT
    if isinstance(node, nodes.Filter) and node.name in _ONE_ITEM and not node.args and not node.kwargs:
        return _items_of(node.node, stored)
    return None


def _attribute_problems(tree: nodes.Template) -> Iterator[str]:
    """``map(attribute='nmae')``, ``selectattr('x')``, ``attr('x')``… naming a key the value does not have.

    At render time such a filter yields undefined values (an error, see `StrictUndefined`), but only
    when the data has items: a visit without services would pass `check` and fail in a worker.
    """
    stored = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all(nodes.Filter):
        if node.name == "attr":
            keys, argument = _shape_of(node.node, stored), (node.args[0] if node.args else None)
        elif node.name in _ATTRIBUTE_FILTERS:
            position = _ATTRIBUTE_FILTERS[node.name]
            keyword: dict[str, nodes.Expr] = {str(kw.key): kw.value for kw in node.kwargs}
            if "default" in keyword:
                continue    # `map(attribute='x', default='')` says what a missing key means
            argument = keyword.get("attribute") or (node.args[position] if position is not None and len(node.args) > position else None)
            keys = _items_of(node.node, stored)
        else:
            continue
        if keys is None or not isinstance(argument, nodes.Const) or not isinstance(argument.value, str):
            continue
        key = argument.value.split(".")[0]
        if key and not key.isdigit() and key not in keys and key not in _DICT_READERS:
            label = _SHAPE_NAMES.get(frozenset(keys), "the value")
            yield f"line {node.lineno}: {node.name}() reads {key!r}, and {label} has no {key!r}{_suggest(key, keys)}"


def check_templates(templates: Templates) -> list[Problem]:
    """Every template problem of a configuration: compile, static checks, and a render on a sample per rule."""
    config, registry = templates.config, templates.registry
    problems = list(templates.problems)
    for (name, locale, channel, part), where in sorted(templates.places.items(), key=lambda kv: kv[1]):
        source = templates.deployer[name][locale][channel][part]
        problems.extend(template_problems(templates.env(part == "html"), source, where))
    static = {p.path for p in problems}
    for index, rule in enumerate(config.rules):
        place = f"rules[{index}] ({rule.id})"
        if rule.trigger not in registry.triggers:
            continue
        if rule.template and rule.template not in templates.names():
            # the rule still sends: its trigger's built-in texts stand in (PRODUCT §4: the default)
            defined = ", ".join(sorted(templates.deployer)) or "none"
            close = difflib.get_close_matches(rule.template, list(templates.names()), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(Problem(f"{place}.template", f"no template named {rule.template!r} ({hint}defined: {defined}); "
                                                         f"the built-in {rule.trigger} texts are used", warning=True))
        context = sample_context(templates, rule)
        for channel in rule.channel:
            found = templates.resolve(rule, channel, config.tidings.locale)
            if found is None:
                problems.append(Problem(f"{place}.template", f"template {rule.template or rule.trigger!r} has no text "
                                                             f"for channel {channel!r}"))
                continue
            locale, name, sources = found
            if any(templates.places.get((name, locale, channel, part)) in static for part in sources):
                continue    # already reported where the text is written
            channel_parts = _parts_of(registry, channel) or tuple(sources)
            try:
                templates.render(rule=rule, channel=channel, parts=channel_parts, context=context,
                                 locale=config.tidings.locale)
            except TemplateError as e:
                problems.append(Problem(f"{place}.template", str(e)))
    return problems
