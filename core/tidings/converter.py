"""The one cattrs converter of tidings, and the translation of its errors into problems with paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, override

from tidings.errors import Problem


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
    return parsed


def _make(*, forbid_extra_keys: bool) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys, prefer_attrib_converters=False)
    conv.register_structure_hook(datetime, lambda v, _: parse_aware(v))
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    return conv


def _strict_bool(value: Any, _: Any) -> bool:
    # cattrs' default is bool(value), which reads the TOML string "false" as true
    if isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not true or false")


# config is strict about unknown keys; events from host platforms are tolerant readers
converter = _make(forbid_extra_keys=True)
converter.register_structure_hook(bool, _strict_bool)
event_converter = _make(forbid_extra_keys=False)


def renamed(cls: type, conv: cattrs.Converter, **renames: str) -> None:
    """Register a structure hook for `cls` that reads attribute `a` from key `renames[a]` (from_ <- from)."""
    conv.register_structure_hook(
        cls,
        make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=conv.forbid_extra_keys,
            **{attr: override(rename=key) for attr, key in renames.items()},
        ),
    )


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


def problems_from(exc: BaseException, path: str = "") -> list[Problem]:
    """Flatten a cattrs validation error into (path, message) problems, as `cattrs.transform_error` does."""
    out: list[Problem] = []
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            if name is not None:
                sub_path = f"{path}.{name}" if path else str(name)
            elif index is not None:
                sub_path = f"{path}[{index!r}]" if isinstance(index, str) else f"{path}[{index}]"
            else:
                sub_path = path
            out.extend(problems_from(sub, sub_path))
        for sub in without:
            out.extend(problems_from(sub, path))
    elif isinstance(exc, ForbiddenExtraKeysError):
        allowed = sorted(a.name for a in getattr(exc.cl, "__attrs_attrs__", ()))
        for key in sorted(exc.extra_fields):
            where = f"{path}.{key}" if path else key
            out.append(Problem(where, f"unknown key {key!r} (allowed: {', '.join(allowed)})"))
    elif isinstance(exc, KeyError):
        out.append(Problem(path, "is required but missing"))
    elif isinstance(exc, ValueError) and len(exc.args) >= 2 and isinstance(getattr(exc.args[1], "name", None), str):
        # an attrs validator (`in_`, ...) raises ValueError(message, attribute, ...): name the attribute
        name = exc.args[1].name.rstrip("_")
        out.append(Problem(f"{path}.{name}" if path else name, str(exc.args[0])))
    elif isinstance(exc, (ValueError, TypeError)):
        out.append(Problem(path, _plain(exc)))
    elif isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            out.extend(problems_from(sub, path))
    else:
        out.append(Problem(path, str(exc)))
    return out


def _plain(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, TypeError) and ("argument" in text or "NoneType" in text or "object" in text):
        return f"has the wrong type ({text})"
    return text
