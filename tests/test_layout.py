"""The layout is tested, not trusted: the core imports no plugin and has no import cycle, every plugin declares its entry points."""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = {"sms": "tidings.channels", "email": "tidings.channels", "push": "tidings.channels",
           "whatsapp": "tidings.channels", "telegram": "tidings.channels",
           "webhook": "tidings.channels", "manual": "tidings.channels", "triggers": "tidings.triggers"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def plugin_only_dependencies() -> set[str]:
    core = {_project_name(d) for d in tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]["dependencies"]}
    only: set[str] = set()
    for plugin in PLUGINS:
        deps = tomllib.loads((ROOT / "plugins" / plugin / "pyproject.toml").read_text())["project"]["dependencies"]
        only |= {_project_name(d) for d in deps} - core - {"tidings"}
    return {d.replace("-", "_").lower() for d in only} | {"py_vapid", "vapid", "smtplib", "pywebpush", "twilio"}


def _project_name(requirement: str) -> str:
    for stop in "<>=![; ":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()


@pytest.mark.parametrize("module", sorted((ROOT / "core" / "tidings").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_plugin_and_no_plugin_only_dependency(module: Path) -> None:
    imported = {name.lower() for name in imported_modules(module)}
    assert not {name for name in imported if name.startswith("tidings_")}
    assert not imported & plugin_only_dependencies()


@pytest.mark.parametrize(("plugin", "group"), sorted(PLUGINS.items()))
def test_every_plugin_is_its_own_distribution_declaring_its_entry_points(plugin: str, group: str) -> None:
    project = tomllib.loads((ROOT / "plugins" / plugin / "pyproject.toml").read_text())["project"]
    assert project["name"] == f"tidings-{plugin}"
    assert "tidings" in {_project_name(d) for d in project["dependencies"]}   # "tidings" or "tidings==0.1.*"
    entry_points = project["entry-points"][group]
    assert entry_points
    for name, target in entry_points.items():
        module = ROOT / "plugins" / plugin / (target.replace(".", "/") + ".py")
        assert module.exists(), f"{name} -> {target}"


def test_the_trigger_distribution_registers_the_four_triggers_by_name() -> None:
    project = tomllib.loads((ROOT / "plugins" / "triggers" / "pyproject.toml").read_text())["project"]
    assert set(project["entry-points"]["tidings.triggers"]) == {"status-change", "pre-visit", "post-visit", "repeat-visit"}


def test_no_module_has_import_time_side_effects() -> None:
    # no module-level plugin manager, broker, actor or structlog.configure (STYLE 10)
    for module in (ROOT / "core" / "tidings").rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.Expr)) and isinstance(getattr(node, "value", None), ast.Call):
                call = ast.unparse(node.value.func)
                assert not call.endswith(("PluginManager", "Broker", "actor", "configure")), f"{module}: {call}"


# ---------------------------------------------------------------- the core's own imports form no cycle

CORE = ROOT / "core"


def core_modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the core by dotted name, with its file and whether it is a package's ``__init__``."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted((CORE / "tidings").rglob("*.py")):
        parts = list(path.relative_to(CORE).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def core_imports(name: str, path: Path, package: bool, modules: Mapping[str, object]) -> set[str]:
    """The core modules that importing `name` imports: every ``import`` and ``from`` anywhere in its file.

    That includes imports under ``if TYPE_CHECKING:`` and inside functions, because a cycle that
    only type checkers or a late call follow is still one concern leaning on another and back. A
    ``from a import b`` imports the module ``a.b`` when there is one, else ``a`` itself; importing
    ``a.b.c`` also runs the ``__init__`` of each package on the way (``a.b``) unless the importer is
    inside it, where Python has that package loaded already.
    """
    own_package = name if package else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own_package.split(".")[: len(own_package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    found: set[str] = set()
    for target in targets:
        if target != "tidings" and not target.startswith("tidings."):
            continue
        while target not in modules:
            target = target.rpartition(".")[0]
        found.add(target)
        parent = target.rpartition(".")[0]
        while parent and parent != "tidings":   # the packages imported on the way, unless they contain the importer
            if not (name == parent or name.startswith(parent + ".")):
                found.add(parent)
            parent = parent.rpartition(".")[0]
    found.discard(name)
    return found


def import_cycles(graph: Mapping[str, set[str]], *, tangled: list[list[str]] | None = None) -> list[list[str]]:
    """The cycles of an import graph: each strongly connected set of two or more modules, as one path round it.

    Args:
        tangled: filled with the members of each such set, sorted (a path names only some of them).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []
    tangled = [] if tangled is None else tangled

    def visit(module: str) -> None:   # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == module:
                    break
            if len(members) > 1:
                cycles.append(_round(graph, set(members)))
                tangled.append(sorted(members))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def _round(graph: Mapping[str, set[str]], members: set[str]) -> list[str]:
    """One path through a strongly connected set that comes back to where it started, for the message."""
    start = min(members)
    paths = {start: [start]}
    queue = [start]
    while queue:
        here = queue.pop(0)
        for other in sorted(graph[here] & members):
            if other == start:
                return [*paths[here], start]
            if other not in paths:
                paths[other] = [*paths[here], other]
                queue.append(other)
    return sorted(members)


def test_the_import_cycle_finder_finds_a_cycle_and_names_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert import_cycles(graph) == [["a", "b", "c", "a"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_a_type_checking_or_deferred_import_counts_as_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tidings.rules import Rule\n"
                      "def f():\n    from tidings.config import loader\n", encoding="utf-8")
    modules = {"tidings.m": None, "tidings.rules": None, "tidings.config": None, "tidings.config.loader": None}
    assert core_imports("tidings.m", module, False, modules) == {"tidings.rules", "tidings.config.loader", "tidings.config"}


def test_the_core_has_no_import_cycle() -> None:
    modules = core_modules()
    graph = {name: core_imports(name, path, package, modules) for name, (path, package) in modules.items()}
    tangled: list[list[str]] = []
    cycles = import_cycles(graph, tangled=tangled)
    assert not cycles, "import cycles in the core: " + "; ".join(
        f"{' -> '.join(cycle)} (modules importing each other round: {', '.join(members)})"
        for cycle, members in zip(cycles, tangled, strict=True))


def test_the_readmes_layout_names_every_module_and_package_of_the_core() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## Layout", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"[\w]+(?:\.py|/)", tree))
    top = {p.name for p in (CORE / "tidings").glob("*.py")} | {
        f"{p.name}/" for p in (CORE / "tidings").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = sorted(top - named)
    assert not missing, f"README.md's Layout tree does not name: {', '.join(missing)}"
