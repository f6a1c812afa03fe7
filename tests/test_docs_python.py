"""docs/python.md is tested, not trusted: its examples run in order, and print what the page says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(page.read_text(encoding="utf-8"))]


def test_every_example_of_the_python_page_runs_and_prints_what_the_page_shows(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    found = blocks(ROOT / "docs" / "python.md")
    assert sum(kind == "python" for kind, _ in found) >= 5
    namespace: dict[str, object] = {"__name__": "docs_python"}
    for index, (kind, text) in enumerate(found):
        if kind == "toml":
            name = text.splitlines()[0].lstrip("# ").strip()
            (tmp_path / name).write_text(text, encoding="utf-8")
        elif kind == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(text, f"docs/python.md block {index}", "exec"), namespace)   # noqa: S102 - our own docs
            following = found[index + 1] if index + 1 < len(found) else None
            if following is not None and following[0] == "text":
                assert out.getvalue() == following[1], f"block {index} printed:\n{out.getvalue()}"
