# Two commands on a fresh machine (Python 3.11+ and make): `make demo` and `make test`.
# Each creates the virtual environment in .venv on first use, and again when a requirements or
# pyproject file changes; nothing else needs to be installed first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -q

.PHONY: demo test typecheck env

env: $(STAMP)

$(STAMP): requirements-dev.txt core/pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tidings demo

# the core type-checks under mypy --strict (configured in pyproject.toml) before the tests run
typecheck: $(STAMP)
	$(BIN)/python -m mypy

test: typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)
