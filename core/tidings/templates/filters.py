"""The core's own template filters and globals, registered through the same hooks as any plugin.

Filters format times in the location's time zone and the recipient's locale with Babel (CLDR's no-break
spaces become plain ones, so an English time does not turn an SMS into UCS-2):
``{{ subject.start | datetime }}``, ``| date``, ``| time``, each taking ``"short"``, ``"medium"``,
``"long"``, ``"full"`` or a CLDR pattern (``| date("EEEE d MMMM")``); ``| money("PLN")`` formats an
amount and ``| duration`` a length of time. Globals ``confirm_url()`` and ``cancel_url()`` build signed links (PRODUCT §10).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal

from tidings.hookspecs import hookimpl
from tidings.plugin_types import TemplateFilter, TemplateGlobal

STYLES = ("short", "medium", "long", "full")
_LENGTHS = ("long", "short", "narrow")    # how `duration` may spell its units
_SPACES = str.maketrans({"\u202f": " ", "\xa0": " "})   # CLDR's no-break spaces would make an SMS UCS-2


def _plain(text: Any) -> str:
    return str(text).translate(_SPACES)


def _locale(context: Any) -> Locale:
    return _locale_of(context.get("_locale"))


def _locale_of(name: Any) -> Locale:
    try:
        return Locale.parse(str(name or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _local(context: Any, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a date and time") from None
    zone = ZoneInfo(str(context.get("_zone") or "UTC"))
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=zone)   # a calendar day is the same day here
    if not isinstance(value, datetime):
        raise ValueError(f"{value!r} is not a date and time")
    return value.astimezone(zone) if value.tzinfo is not None else value.replace(tzinfo=zone)


def format_datetime_filter(context: Any, value: Any, format: str = "medium") -> str:
    """``{{ subject.start | datetime }}``: the date and the time (no seconds) in the locale's own order."""
    return _formatted("datetime", _local(context, value), format, context.get("_locale"))


def format_date_filter(context: Any, value: Any, format: str = "medium") -> str:
    """``{{ subject.start | date }}`` or ``| date("EEEE d MMMM")``."""
    return _formatted("date", _local(context, value), format, context.get("_locale"))


def format_time_filter(context: Any, value: Any, format: str = "short") -> str:
    """``{{ subject.start | time }}``: "3:00 PM" in en, "15:00" in pl."""
    return _formatted("time", _local(context, value), format, context.get("_locale"))


def _formatted(kind: str, moment: datetime, format: Any, locale: Any) -> str:
    """A time written by Babel, remembered: every message about a visit writes its start, often more than once."""
    if isinstance(format, str) and (locale is None or isinstance(locale, str)):
        return _formatted_once(kind, moment, moment.tzinfo, format, locale)
    return _format(kind, moment, format, _locale_of(locale))


@functools.lru_cache(maxsize=8192)
def _formatted_once(kind: str, moment: datetime, zone: Any, format: str, locale: str | None) -> str:
    # the zone is part of the key: aware times of the same instant are equal (and hash alike) in any zone
    return _format(kind, moment, format, _locale_of(locale))


def _format(kind: str, moment: datetime, format: Any, locale: Locale) -> str:
    if kind == "date":
        return _plain(format_date(moment.date(), format, locale=locale))
    if kind == "time":
        return _plain(format_time(moment, format, locale=locale))
    if format not in STYLES:
        from babel.dates import format_datetime
        return _plain(format_datetime(moment, format, locale=locale))
    day = format_date(moment.date(), format, locale=locale)
    hour = format_time(moment, "short", locale=locale)
    pattern = str(locale.datetime_formats.get(format, "{1} {0}"))
    return _plain(pattern.replace("{1}", day).replace("{0}", hour).replace("'", ""))


def money_filter(context: Any, value: Any, currency: str | None = None) -> str:
    """``{{ data.amount | money("PLN") }}``; without a currency, the number in the locale's style."""
    try:
        amount = Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    locale = _locale(context)
    return _plain(format_currency(amount, currency, locale=locale) if currency else format_decimal(amount, locale=locale))


def duration_filter(context: Any, value: Any, length: str = "long") -> str:
    """``{{ (subject.end - subject.start) | duration }}``: "1 hour 30 minutes", "1 godzina 30 minut".

    Takes a timedelta or a number of minutes; `length` is ``"long"`` or ``"short"`` ("1 hr 30 min").
    """
    from babel.units import format_unit
    if isinstance(value, timedelta):
        minutes = round(value.total_seconds() / 60)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        minutes = round(value)
    else:
        raise ValueError(f"{value!r} is not a duration (a time difference or a number of minutes)")
    if length not in _LENGTHS:
        raise ValueError(f"{length!r} is not a length of a duration (choose one of: {', '.join(_LENGTHS)})")
    style = cast("Literal['short', 'long', 'narrow']", length)
    locale = _locale(context)
    hours, rest = divmod(abs(minutes), 60)
    parts = [format_unit(hours, "duration-hour", length=style, locale=locale)] if hours else []
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length=style, locale=locale))
    return _plain(" ".join(parts))


def _link(context: Any, action: str) -> str:
    links = getattr(context.environment, "tidings_links", None)
    subject = (context.get("subject") or {}).get("id")
    from tidings.links import build_url, check_secret
    if links is None or not links.base_url or check_secret(links.secret) is not None or not subject:
        return ""   # `check` reports the missing or weak secret; a render never fails on it
    now = context.get("_now") or datetime.now(timezone.utc)   # a sample render with no moment
    return build_url(links.base_url, subject, action, secret=links.secret, expires=now + links.ttl.elapsed())


def confirm_url(context: Any) -> str:
    """A signed link the client follows to confirm this visit ("" when [links] is not configured)."""
    return _link(context, "confirm")


def cancel_url(context: Any) -> str:
    """A signed link the client follows to cancel this visit ("" when [links] is not configured)."""
    return _link(context, "cancel")


@hookimpl
def tidings_template_filters() -> Iterator[TemplateFilter]:
    yield TemplateFilter(name="datetime", function=format_datetime_filter, needs_context=True)
    yield TemplateFilter(name="date", function=format_date_filter, needs_context=True)
    yield TemplateFilter(name="time", function=format_time_filter, needs_context=True)
    yield TemplateFilter(name="money", function=money_filter, needs_context=True)
    yield TemplateFilter(name="duration", function=duration_filter, needs_context=True)


@hookimpl
def tidings_template_globals() -> Iterator[TemplateGlobal]:
    yield TemplateGlobal(name="confirm_url", value=confirm_url, needs_context=True)
    yield TemplateGlobal(name="cancel_url", value=cancel_url, needs_context=True)
