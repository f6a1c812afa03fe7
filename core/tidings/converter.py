"""The one cattrs converter of tidings, and the translation of its errors into problems with paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timezone
from typing import Any, get_args, get_origin

import attrs
import cattrs
from attrs import frozen
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from tidings.errors import InvalidValue, Problem


EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def parse_aware(value: Any) -> datetime:
    """Parse an RFC 3339 time that must carry a UTC offset."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an RFC 3339 time (like 2026-03-10T14:00:00+01:00)") from None
    else:
        raise ValueError(f"{value!r} is not an RFC 3339 time string")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset")
    # a time far from now cannot be a visit, and months added or taken from it would leave datetime's range
    if not EARLIEST <= parsed.astimezone(timezone.utc) <= LATEST:
        raise ValueError(f"{value!r} is outside the years {EARLIEST.year} to {LATEST.year}")
    return parsed


def _make(*, forbid_extra_keys: bool) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys, prefer_attrib_converters=False)
    conv.register_structure_hook(datetime, lambda v, _: parse_aware(v))
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    return conv


def describe_json(value: Any) -> str:
    """A JSON value as an error message shows it: ``'false' (a string)``, ``0 (a number)``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def toml_kind(value: Any) -> str:
    """What a TOML value is, in the words of the TOML spec ("a string", "an array", "a table")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, (datetime, date, time)):
        return "a date-time"
    return type(value).__name__


def wrong_type(value: Any, wanted: str) -> str:
    """The problem of a value of the wrong TOML type: ``must be a table, not a string ('x')``."""
    shown = f" ({value!r})" if not isinstance(value, (Mapping, list, tuple)) else ""
    return f"must be {wanted}, not {toml_kind(value)}{shown}"


def structure_id(value: Any, _: Any = None) -> str:
    """An id: a string, or a JSON integer read as its decimal digits (hosts often number their records)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"must be a string or an integer, not {describe_json(value)}")


@frozen
class _Dialect:
    """How one kind of document words its types, and the one leniency it allows.

    Attributes:
        wrong: the problem of a value that is not `wanted` (``must be a table, not a string ('x')``).
        words: the document's names for a string, a boolean, a table and a list.
        name_lists: a list of strings may be written as one string (``channels = "sms"``).
        integer_ids: an attribute named ``id`` also takes an integer, read as its digits.
    """

    wrong: Callable[[Any, str], str]
    words: Mapping[str, str]
    name_lists: bool = False
    integer_ids: bool = False


_TOML = _Dialect(wrong=wrong_type, name_lists=True,
                 words={"str": "a string", "table": "a table", "list": "an array", "names": "a list of names"})
_JSON = _Dialect(wrong=lambda value, wanted: f"must be {wanted}, not {describe_json(value)}", integer_ids=True,
                 words={"str": "a string", "table": "an object", "list": "a list", "names": "a list",
                        "bool": "true or false (a JSON boolean)"})


def _strict(conv: cattrs.Converter, dialect: _Dialect) -> None:
    """Make `conv` read values as they are written: no value of one type is turned into another.

    cattrs' defaults call ``str(value)``, ``int(value)``, ``bool(value)`` and iterate any iterable, so
    ``template = 3`` became ``"3"``, ``working_hours = "false"`` and ``"consents": {"sms": "false"}``
    became true, ``channels = "sms"`` became ``("s", "m", "s")``, and a table given as anything else
    raised AttributeError on ``.keys()``. Here each of those is a problem naming its key. A
    configuration (TOML) and an event (JSON from another system) differ only in their words and in
    one leniency each: a list of names may be written as one name in a configuration
    (docs/configuration.md), and an id may be a JSON integer in an event (docs/events.md).
    """
    words = dialect.words

    def wrong(value: Any, wanted: str) -> ValueError:
        return ValueError(dialect.wrong(value, wanted))

    def exact(kinds: tuple[type, ...], wanted: str, cast: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
        def structure(value: Any, _: Any) -> Any:
            # bool is an int in Python, never in TOML or JSON
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise wrong(value, wanted)
            return cast(value)
        return structure

    def boolean(value: Any, _: Any) -> bool:
        if isinstance(value, bool):
            return value
        if "bool" in words:
            raise wrong(value, words["bool"])
        raise ValueError(f"{value!r} is not true or false")

    conv.register_structure_hook(str, exact((str,), words["str"], str))
    conv.register_structure_hook(bool, boolean)
    conv.register_structure_hook(int, exact((int,), "an integer", int))
    conv.register_structure_hook(float, exact((int, float), "a number", float))

    def is_sequence(type_: Any) -> bool:
        args = get_args(type_)
        return get_origin(type_) in (tuple, list) and (get_origin(type_) is list or (len(args) == 2 and args[1] is Ellipsis))

    def sequence(type_: Any) -> Callable[[Any, Any], Any]:
        origin, item = get_origin(type_), get_args(type_)[0]

        def structure(value: Any, _: Any) -> Any:
            if dialect.name_lists and item is str and isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)):   # a string is iterable too: never read letter by letter
                raise wrong(value, words["names"] if item is str else words["list"])
            out, errors = [], []
            for index, element in enumerate(value):
                try:
                    out.append(conv.structure(element, item))
                except Exception as e:   # as cattrs does: every element's error, each with its index
                    e.add_note(IterableValidationNote(f"Structuring {type_} @ index {index}", index, item))
                    errors.append(e)
            if errors:
                raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
            return origin(out)
        return structure

    def is_table_type(type_: Any) -> bool:
        return get_origin(type_) in (dict, Mapping) and len(get_args(type_)) == 2

    def mapping(type_: Any) -> Callable[[Any, Any], Any]:
        key_type, value_type = get_args(type_)

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, Mapping):
                raise wrong(value, words["table"])
            out, errors = {}, []
            for key, element in value.items():
                try:
                    out[conv.structure(key, key_type)] = conv.structure(element, value_type)
                except Exception as e:
                    e.add_note(IterableValidationNote(f"Structuring mapping value @ key {key!r}", key, value_type))
                    errors.append(e)
            if errors:
                raise IterableValidationError(f"While structuring {type_!r}", errors, type_)
            return out
        return structure

    def table(cls: type) -> Callable[[Any, Any], Any]:
        ids = {"id": override(struct_hook=structure_id)} if dialect.integer_ids and "id" in attrs.fields_dict(cls) else {}
        return table_hook(cls, conv, overrides=ids, wanted=words["table"], wrong=dialect.wrong)

    conv.register_structure_hook_factory(is_sequence, sequence)
    conv.register_structure_hook_factory(is_table_type, mapping)
    conv.register_structure_hook_factory(attrs.has, table)


def table_hook(cls: type, conv: cattrs.Converter, *, overrides: Mapping[str, Any] | None = None,
               wanted: str = "a table", wrong: Callable[[Any, str], str] = wrong_type) -> Callable[[Any, Any], Any]:
    """cattrs' structure function of attrs class `cls`, refusing anything but a table (an object) first."""
    named: dict[str, Any] = dict(overrides or {})   # attribute -> cattrs.gen.override(...)
    inner: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=conv.forbid_extra_keys, **named)

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError(wrong(value, wanted))
        return inner(value, cls)
    return structure


# config is strict about unknown keys and types; events are read strictly by type, their unknown keys are
# reported by tidings.intake (a warning, or an error with `strict_events`)
converter = _make(forbid_extra_keys=True)
_strict(converter, _TOML)
event_converter = _make(forbid_extra_keys=False)
_strict(event_converter, _JSON)


def renamed(cls: type, conv: cattrs.Converter, **renames: str) -> None:
    """Register a structure hook for `cls` that reads attribute `a` from key `renames[a]` (from_ <- from)."""
    conv.register_structure_hook(cls, table_hook(cls, conv, overrides={attr: override(rename=key) for attr, key in renames.items()}))


def check_fields(instance: Any, checks: Mapping[str, Callable[[Any], str | None]], section: str) -> None:
    """Run each field's check and raise every failure at once, each under its own key.

    For a plugin's settings class (call it from ``__attrs_post_init__``): the errors are reported the
    way cattrs reports its own, so `tidings check` shows ``channels.sms.sender: ...`` and
    ``channels.sms.timeout: ...`` together. A check returns None when the value is fine.
    """
    cls = type(instance)
    errors = []
    for name, check in checks.items():
        message = check(getattr(instance, name))
        if message is not None:
            error = ValueError(message)
            error.add_note(AttributeValidationNote(f"Invalid value for {name}", name, attrs.fields_dict(cls)[name].type))
            errors.append(error)
    if errors:
        raise ClassValidationError(f"invalid [{section}] settings", errors, cls)


def problems_from(exc: BaseException, path: str = "", *, dotted_keys: bool = False) -> list[Problem]:
    """Flatten a cattrs validation error into (path, message) problems, as `cattrs.transform_error` does.

    Args:
        dotted_keys: write a mapping's keys as ``consents.sms`` (the event contract's paths) instead of
            ``consents['sms']``.
    """
    out: list[Problem] = []
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            if name is not None:
                sub_path = f"{path}.{name}" if path else str(name)
            elif isinstance(index, str) and dotted_keys:
                sub_path = f"{path}.{index}" if path else index
            elif index is not None:
                sub_path = f"{path}[{index!r}]" if isinstance(index, str) else f"{path}[{index}]"
            else:
                sub_path = path
            out.extend(problems_from(sub, sub_path, dotted_keys=dotted_keys))
        for sub in without:
            out.extend(problems_from(sub, path, dotted_keys=dotted_keys))
    elif isinstance(exc, ForbiddenExtraKeysError):
        allowed = sorted(a.name for a in getattr(exc.cl, "__attrs_attrs__", ()))
        for key in sorted(exc.extra_fields):
            where = f"{path}.{key}" if path else key
            out.append(Problem(where, f"unknown key {key!r} (allowed: {', '.join(allowed)})"))
    elif isinstance(exc, InvalidValue):
        for problem in exc.problems:
            out.append(Problem(".".join(p for p in (path, problem.path) if p), problem.message, problem.warning))
    elif isinstance(exc, KeyError):
        out.append(Problem(path, "is required but missing"))
    elif isinstance(exc, ValueError) and len(exc.args) >= 2 and isinstance(getattr(exc.args[1], "name", None), str):
        # an attrs validator (`in_`, ...) raises ValueError(message, attribute, ...): name the attribute
        name = exc.args[1].name.rstrip("_")
        out.append(Problem(f"{path}.{name}" if path else name, str(exc.args[0])))
    elif isinstance(exc, (ValueError, TypeError)):
        out.append(Problem(path, _plain(exc)))
    elif isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            out.extend(problems_from(member, path, dotted_keys=dotted_keys))
    else:
        out.append(Problem(path, str(exc)))
    return out


def _plain(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and ("argument" in text or "NoneType" in text or "object" in text):
        return f"has the wrong type ({text})"
    return text
