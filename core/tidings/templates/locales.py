"""Locales: their normal spelling (``pl_PL``) and the chain a text is looked up by."""

from __future__ import annotations

import functools
import re

from babel import Locale, UnknownLocaleError

__all__ = ["LOCALE", "babel_knows", "locale_chain", "normalize_locale"]

LOCALE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")


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
def babel_knows(locale: str) -> bool:
    """Whether Babel has data for `locale` (its dates and numbers can be written in it)."""
    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return False
    return True
