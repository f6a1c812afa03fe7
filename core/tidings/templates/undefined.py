"""Undefined values in templates: an error wherever one is used, naming what lacks the key."""

from __future__ import annotations

import re
from collections.abc import Mapping

import jinja2
from jinja2.exceptions import UndefinedError

from tidings.templates.shapes import SHAPE_NAMES, VARIABLES, suggest

__all__ = ["StrictUndefined", "undefined_message"]


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
        return f"{SHAPE_NAMES.get(frozenset(keys), 'a value')} has no {name!r}{suggest(name, keys)}"

    def __repr__(self) -> str:
        raise self._undefined_exception(f"{self._undefined_message}, so the list or value holding it cannot be printed")

    __format__ = __abs__ = __round__ = __index__ = __trunc__ = __floor__ = __ceil__ = \
        jinja2.StrictUndefined._fail_with_undefined_error


def undefined_message(e: UndefinedError) -> str:
    """What a render's undefined value is, in words: ``unknown variable 'cleint' (did you mean 'client'?)``."""
    message = str(e.message or e)
    found = re.match(r"'(\w+)' is undefined", message)
    if found:
        return f"unknown variable {found.group(1)!r}{suggest(found.group(1), VARIABLES)}"
    return message
