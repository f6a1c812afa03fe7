"""The sandbox templates run in: Jinja's immutable sandbox, every step and string charged to a `Budget`.

Templates are written by deployers and tenants, so they are untrusted. Loops pay per step, calls
and ``*``, ``**``, ``%``, ``+`` and ``~`` pay for what they build, before it is built where its size
can run away; filters are wrapped (`capped`) so that huge arguments and results are refused.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from tidings.templates import budget

__all__ = ["Sandbox", "capped"]

_DICT_NAMES = frozenset(dir(dict))   # what ``getattr`` finds on a plain dict: its methods and dunders, nothing else


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a budget on work, time, and the size of everything it builds."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``a.b`` on a plain dict of the context (nearly every lookup a text makes) without the detour.

        Jinja's sandbox tries ``getattr(obj, "b")`` first, which on a dict raises AttributeError unless
        ``b`` names one of dict's own attributes, and then ``obj["b"]``. For an exact `dict` and a name
        that is not one of dict's attributes that is the item or undefined, so it is looked up as such;
        everything else (dict's methods, any other type) takes the sandbox's checked way.
        """
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        budget.spend()
        if operator_ == "**":
            if isinstance(right, (int, float)) and abs(right) > 64 or isinstance(left, (int, float)) and abs(left) > budget.MAX_NUMBER:
                raise SecurityError("'**' with a large operand is not allowed in templates")
            return left ** right
        if operator_ == "*":
            count = right if isinstance(left, (str, list, tuple)) else left if isinstance(right, (str, list, tuple)) else None
            if isinstance(count, int) and count * max(budget.size_of(left), budget.size_of(right)) > budget.MAX_PART:
                raise SecurityError(f"a repetition longer than {budget.MAX_PART} is not allowed in templates")
            if isinstance(count, int):
                budget.build(count * max(budget.size_of(left), budget.size_of(right)))
            elif isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > budget.MAX_BITS:
                raise SecurityError(f"a number larger than {budget.MAX_BITS} bits is not allowed in templates")
            return left * right
        if operator_ == "+":
            if isinstance(left, int) and isinstance(right, int) and max(left.bit_length(), right.bit_length()) > budget.MAX_BITS:
                raise SecurityError(f"a number larger than {budget.MAX_BITS} bits is not allowed in templates")
            return budget.paid(left + right)
        # a '%' format: its widths are checked before the string is built
        if isinstance(left, str):
            operands = right if isinstance(right, tuple) else (right,)
            if budget.PERCENT_WIDTH.search(left) and (re.search(r"\d{4,}", left) or any(budget.large_int(v, 999) for v in operands)):
                raise SecurityError("a '%' format wider than 999 is not allowed in templates")
            budget.build(len(left) + sum(budget.text_size(v) for v in operands) + 999 * left.count("%"))
        return left % right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja's signature)
        budget.spend()
        target = getattr(__obj, "__wrapped__", __obj)     # str.format arrives wrapped by the sandbox
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            name = getattr(target, "__name__", "")
            if any(budget.large_int(v) for v in (*args, *kwargs.values())):
                raise SecurityError(f"a number larger than {budget.MAX_NUMBER} is not allowed as an argument in templates")
            if name in ("format", "format_map"):
                if budget.BRACE_WIDTH.search(owner) and (re.search(r"\d{4,}", owner) or any(budget.large_int(v, 999) for v in args)):
                    raise SecurityError("a format wider than 999 is not allowed in templates")
                budget.build(len(owner) + sum(budget.text_size(v) for v in (*args, *kwargs.values())))
            else:
                size = budget.estimate(name, owner, args, kwargs)
                if size is not None:
                    budget.build(size)
        return budget.paid(super().call(__context, __obj, *args, **kwargs))

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):   # every loop pays per step: nested loops cannot run away
            loop.iter = nodes.Call(nodes.ImportedName("tidings.templates.budget.guard_iter"), [loop.iter], [], None, None)
        return _PayForConcat().visit(tree)     # type: ignore[no-any-return]


class _PayForConcat(NodeTransformer):
    """Rewrites ``a ~ b`` into ``guard_built(a ~ b)``: what a concatenation builds is paid for."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (jinja's visitor naming)
        self.generic_visit(node)
        return nodes.Call(nodes.ImportedName("tidings.templates.budget.guard_built"), [node], [], None, None, lineno=node.lineno)


def capped(function: Any, name: str = "") -> Any:
    """Wrap a filter so that huge numeric arguments (``center(10**9)``) and huge results are refused.

    A filter that can build far more than it is given (``replace``, ``indent``, ``center``, ``join``,
    ``format``) is paid for before it runs; every other filter's result is paid for after.
    """
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1     # the context and the value are not arguments

    @functools.wraps(function)   # keeps jinja's pass_context / pass_eval_context marker
    def filter_(*args: Any, **kwargs: Any) -> Any:
        budget.spend()
        for value in (*args[skip:], *kwargs.values()):
            if budget.large_int(value):
                raise SecurityError(f"a filter argument larger than {budget.MAX_NUMBER} is not allowed in templates")
        if len(args) >= skip:
            subject = args[skip - 1]
            if name == "format" and isinstance(subject, str):
                if budget.PERCENT_WIDTH.search(subject) and (re.search(r"\d{4,}", subject) or any(budget.large_int(v, 999) for v in args[skip:])):
                    raise SecurityError("a '%' format wider than 999 is not allowed in templates")
                budget.build(len(subject) + sum(budget.text_size(v) for v in args[skip:]) + 999 * subject.count("%"))
            elif name == "join" and isinstance(subject, (list, tuple)):
                separator = args[skip] if len(args) > skip and isinstance(args[skip], str) else str(kwargs.get("d", ""))
                budget.build(budget.estimate("join", separator, (subject,), {}) or 0)
            elif isinstance(subject, str):
                size = budget.estimate(name, subject, args[skip:], kwargs)
                if size is not None:
                    budget.build(size)
        result = function(*args, **kwargs)
        if budget.size_of(result) > budget.MAX_PART:
            raise SecurityError(f"a filter result longer than {budget.MAX_PART} is not allowed in templates")
        return budget.paid(result)
    return filter_
