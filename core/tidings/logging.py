"""Structured logging: a processor that masks phone numbers and e-mail addresses, and the CLI's setup."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(\+?\d{3,5})[\d \-]{2,}?(\d{3})\b")


def mask(text: str) -> str:
    """Mask every e-mail address and phone number in `text`: o***@example.com, +48600***200."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}***{m.group(2)}" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text)


def mask_contacts(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: masks phone numbers and e-mail addresses in every string value."""
    for key, value in list(event_dict.items()):
        if isinstance(value, str) and key not in ("event", "level", "timestamp", "logger"):
            event_dict[key] = mask(value)
    return event_dict


def configure(*, json: bool | None = None, level: str = "info") -> None:
    """Set up structlog for a tidings process: JSON when not on a terminal, readable on one."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_contacts,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
