# Two commands on a fresh machine (Python 3.11+ and make): `make demo` and `make test`.
# Each creates the virtual environment in .venv on first use, and again when a requirements or
# pyproject file changes; nothing else needs to be installed first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -q

.PHONY: demo test env

env: $(STAMP)

$(STAMP): requirements-dev.txt core/pyproject.toml $(wildcard plugins/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tidings demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
