"""What `check` finds in a template without running it: syntax, unknown names, unsafe reach, wrong keys."""

from __future__ import annotations

from collections.abc import Iterator

from jinja2 import TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables

from tidings.errors import Problem
from tidings.templates.sandbox import Sandbox
from tidings.templates.shapes import CONTACT, DANGEROUS, DICT_READERS, HIDDEN, ITEMS, SERVICE, SHAPE_NAMES, SHAPES, VARIABLES, suggest

__all__ = ["template_problems"]


def template_problems(env: Sandbox, source: str, where: str) -> list[Problem]:
    """What is wrong with one template source, found without running it: syntax, unknown names, unsafe reach."""
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as e:
        return [Problem(where, f"line {e.lineno}: {e.message}")]
    except (RecursionError, MemoryError):
        return [Problem(where, "refused by the sandbox: the template is nested too deeply")]
    problems: list[Problem] = []
    known = {*VARIABLES, *HIDDEN, *env.globals}
    for name in sorted(find_undeclared_variables(tree) - known):
        problems.append(Problem(where, f"unknown variable {name!r}{suggest(name, VARIABLES)}"))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node, (nodes.Getattr, nodes.Getitem)):
            continue   # find_all yields only these; the check tells the type checker so
        attr = _const_name(node)
        if attr is None:
            continue
        if attr.startswith("_") or attr in DANGEROUS:
            problems.append(Problem(where, f"line {node.lineno}: reaches {attr!r}, which templates may not use "
                                           "(the sandbox refuses Python internals)"))
        elif isinstance(node.node, nodes.Name) and node.node.name in SHAPES and node.node.ctx == "load" \
                and attr not in SHAPES[node.node.name] and attr not in DICT_READERS:
            shape = SHAPES[node.node.name]
            problems.append(Problem(where, f"line {node.lineno}: {node.node.name} has no {attr!r}{suggest(attr, shape)}"))
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
        if key and not key.isdigit() and key not in keys and key not in DICT_READERS:
            label = SHAPE_NAMES.get(frozenset(keys), "the value")
            yield f"line {node.lineno}: {node.name}() reads {key!r}, and {label} has no {key!r}{suggest(key, keys)}"
