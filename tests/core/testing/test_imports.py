"""The kit's `new_imports`: what running code imports, seen from a fresh interpreter."""

from __future__ import annotations

import pytest

from tidings.testing import new_imports


def test_the_modules_code_imports_are_those_beyond_what_setup_imported() -> None:
    imported = new_imports("import email.mime.text, csv", setup="import email.mime.text")
    assert "csv" in imported
    assert "email.mime.text" not in imported


def test_code_that_imports_nothing_new_reports_nothing() -> None:
    assert new_imports("x = 1 + 1") == set()


def test_code_that_fails_is_an_assertion_with_what_the_interpreter_said() -> None:
    with pytest.raises(AssertionError, match="ModuleNotFoundError: No module named 'no_such_module'"):
        new_imports("import no_such_module")
