"""Logging fit for a library: structlog loggers that hand every line to the standard `logging` module, masked.

Importing or using tidings prints nothing by itself and never configures logging globally. Each
tidings logger (`get_logger`) is a structlog logger wrapped around the stdlib logger of its module
(``tidings.pipeline``; a plugin's ``tidings_sms.twilio`` becomes ``tidings.sms.twilio``), with its
own processors, so whatever the host configured for `logging` decides where lines go, and a host
that configured nothing sees nothing (a `logging.NullHandler` sits on ``tidings``, as the logging
HOWTO advises libraries to do).

Before a line leaves tidings, every phone number and e-mail address in it is masked
(``+48600***200``, ``o***@example.com``): in every value, in nested ones, in exception messages and
in tracebacks. The stdlib record carries the structured fields as ``record.tidings`` and a readable
``event key=value ...`` message, so a plain host formatter shows something useful too.

The CLI calls `configure`: one handler on the root logger that renders every record, tidings' and
Dramatiq's alike, as one JSON object per line (or readable text on a terminal), masked as well. An
expected tidings error (a transient delivery failure that Dramatiq retries) is logged as one line with
its type and message, never with a multi-line traceback.
"""

from __future__ import annotations

import functools
import json as _json
import logging
import re
import sys
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timezone
from typing import Any

import structlog

__all__ = ["Formatter", "configure", "get_logger", "mask", "mask_contacts", "mask_value"]

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(\+?\d{3,5})[\d \-]{2,}?(\d{3})\b")
_KEEP = ("level", "timestamp", "logger")

logging.getLogger("tidings").addHandler(logging.NullHandler())


def mask(text: str) -> str:
    """Mask every e-mail address and phone number in `text`: o***@example.com, +48600***200."""
    # the values of log lines repeat (rule ids, channels, reasons, statuses): each is masked once
    return _mask_short(text) if len(text) <= _MEMO_LENGTH else _mask(text)


_MEMO_LENGTH = 200


def _mask(text: str) -> str:
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}***{m.group(2)}" if sum(c.isdigit() for c in m.group(0)) >= 7 else m.group(0), text)


_mask_short = functools.lru_cache(maxsize=8192)(_mask)


def mask_value(value: Any) -> Any:
    """`value` with every string in it masked, at any depth of dicts, lists and tuples."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


def mask_contacts(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: masks phone numbers and e-mail addresses in every value (the event included)."""
    for key, value in list(event_dict.items()):
        if key not in _KEEP:
            event_dict[key] = mask_value(value)
    return event_dict


def _to_record(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """The last processor: the stdlib call's arguments, a readable message and the fields as ``record.tidings``."""
    fields = dict(event_dict)
    event = str(fields.get("event", ""))
    rest = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("event", "exception") and v is not None)
    # the fields were masked by `mask_contacts`: the Formatter need not mask them again
    return {"msg": f"{event} {rest}".strip(), "extra": {"tidings": fields, _MASKED: True}}


_MASKED = "tidings_masked"


_PROCESSORS: list[Any] = [
    structlog.stdlib.filter_by_level,            # first: a line nobody listens to costs one level check
    structlog.contextvars.merge_contextvars,
    structlog.processors.format_exc_info,        # the traceback becomes a string, and so is masked below
    mask_contacts,
    _to_record,
]


def get_logger(name: str) -> Any:
    """The logger of module `name`: structlog's API (``log.info("message_sent", rule=..., to=...)``), stdlib's routing."""
    if name.startswith("tidings_"):
        name = "tidings." + name[len("tidings_"):]
    return structlog.wrap_logger(logging.getLogger(name), processors=_PROCESSORS,
                                 wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=True)


class Formatter(logging.Formatter):
    """Renders any record as one masked JSON object per line, or as readable masked text.

    tidings' records bring their fields (``record.tidings``); any other library's (Dramatiq, pika,
    redis) become ``{"event": <its message>, "exception": <traceback>}``. A tidings error raised in
    an actor is expected (Dramatiq retries transient failures) and is shown by type and message only.
    """

    def __init__(self, *, json: bool) -> None:
        super().__init__()
        self.json = json

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        ours = getattr(record, "tidings", None)
        data: dict[str, Any] = dict(ours) if isinstance(ours, Mapping) else {"event": record.getMessage()}
        if record.exc_info and record.exc_info[1] is not None and "exception" not in data:
            error = record.exc_info[1]
            from tidings.errors import TidingsError
            if isinstance(error, TidingsError):
                data["error"] = f"{type(error).__name__}: {error}"
            else:
                data["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        stamp = datetime.fromtimestamp(record.created, timezone.utc).isoformat().replace("+00:00", "Z")
        out = {"timestamp": stamp, "level": record.levelname.lower(), "logger": record.name, **data}
        if getattr(record, _MASKED, False) and isinstance(ours, Mapping) and not record.exc_info:
            return out   # a tidings line, masked on its way by `mask_contacts`
        return {k: (v if k in _KEEP else mask_value(v)) for k, v in out.items()}

    def format(self, record: logging.LogRecord) -> str:
        data = self.fields(record)
        if self.json:
            return _json.dumps(data, ensure_ascii=False, default=str)
        head = f"{data.pop('timestamp')} [{data.pop('level'):<7}] {data.pop('event', '')}"
        data.pop("logger", None)
        exception = data.pop("exception", None)
        text = " ".join([head, *(f"{k}={v}" for k, v in data.items() if v is not None)])
        return f"{text}\n{exception}" if exception else text


def configure(*, json: bool | None = None, level: str = "info", path: str | None = None) -> None:
    """Set up logging for a tidings process (the CLI): one masked handler on stderr (or a file) for every logger.

    Args:
        json: JSON lines (default when stderr is not a terminal) or readable text.
        level: the least level shown, for tidings' and Dramatiq's loggers alike.
        path: a file to append the lines to instead of stderr; it is reopened when it is moved or
            removed (logrotate), as `logging.handlers.WatchedFileHandler` does.
    """
    if json is None:
        json = not sys.stderr.isatty()
    handler: logging.Handler
    if path is not None:
        from logging.handlers import WatchedFileHandler
        handler = WatchedFileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter(json=json))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    for noisy in ("pika", "urllib3", "httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
