"""What one render may spend: steps, characters and time, charged as a template runs (`Budget`).

The sandbox (`tidings.templates.sandbox`) charges every loop step, call and string a template
builds to the `Budget` of the render in progress, held in a context variable so that concurrent
renders in a worker's threads each pay their own. The limits are the module's constants.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from attrs import define
from jinja2.exceptions import SecurityError

__all__ = ["MAX_BITS", "MAX_BUILT", "MAX_NUMBER", "MAX_PART", "MAX_STEPS", "RENDER_SECONDS", "Budget", "build",
           "estimate", "guard_built", "guard_iter", "large_int", "paid", "reset", "running", "size_of", "spend", "text_size"]

MAX_PART = 64_000            # characters of one rendered part
MAX_STEPS = 50_000           # loop iterations plus calls in one render
MAX_BUILT = 1_000_000        # characters all the strings of one render may add up to
MAX_BITS = 4_096             # the largest integer, in bits, arithmetic in a template may make
RENDER_SECONDS = 2.0         # the longest one render may take
MAX_NUMBER = 100_000         # the largest integer a filter argument or a repetition may use

_budget: contextvars.ContextVar[Budget] = contextvars.ContextVar("tidings_template_budget")


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


def spend(n: int = 1) -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.spend(n)


def build(size: int) -> None:
    budget = _budget.get(None)
    if budget is not None:
        budget.build(size)


def paid(value: Any) -> Any:
    """Charge a value already built to the budget, and hand it on."""
    if isinstance(value, (str, list, tuple)):
        build(len(value))
    return value


def guard_iter(iterable: Any) -> Iterator[Any]:
    """Every ``{% for %}`` loop runs through this: each step is paid from the render's budget."""
    for item in iterable:
        spend()
        yield item


def guard_built(value: Any) -> Any:
    """Every ``~`` concatenation runs through this: what it built is paid for."""
    return paid(value)


def size_of(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def text_size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value)) if isinstance(value, (int, float)) else size_of(value)


def large_int(value: Any, limit: int = MAX_NUMBER) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit


# a format spec's width or precision: '%999s', '%.999f', '{:>999}', '{0:.999}'
PERCENT_WIDTH = re.compile(r"%[-+ #0]*(?:\d{4,}|\*)|%[-+ #0]*\d*\.(?:\d{4,}|\*)")
BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(?:\d{4,}|\{)")


def estimate(method: str, text: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int | None:
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
        return sum(text_size(v) for v in values[0]) + len(text) * len(values[0])
    return None



def running() -> contextvars.Token[Budget]:
    """Start a render's budget of `RENDER_SECONDS` (`reset` it with the token when the render ends)."""
    return _budget.set(Budget(deadline=time.monotonic() + RENDER_SECONDS))


def reset(token: contextvars.Token[Budget]) -> None:
    _budget.reset(token)
