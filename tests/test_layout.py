"""The layout is tested, not trusted: the core imports no plugin, every plugin declares its entry points."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = {"sms": "tidings.channels", "email": "tidings.channels", "push": "tidings.channels",
           "triggers": "tidings.triggers"}


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
    assert "tidings" in project["dependencies"]
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
