# callshrink: two commands do everything on a fresh machine.
#   make demo   install, generate demo data, run the pipeline, serve the app
#   make test   install and run the full suite (lint, pytest on a real Postgres, dbt, MetricFlow,
#               every app page in headless Chromium: scripts/ensure-browser provides it)
# Everything installs into .venv from requirements.lock (exact versions) with uv, byte-compiled.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.9.30
INSTALLED := $(VENV)/.installed

.PHONY: install demo test lint sql-lint format app dev lock clean help

help:
	@echo "make demo    generate demo data, run the whole pipeline, serve the app"
	@echo "make test    the full test suite (what CI runs)"
	@echo "make lint    ruff (sqlfluff runs in the test suite: tests/lint)"
	@echo "make format  ruff format + sqlfluff fix"
	@echo "make dev     the Dagster UI on the warehouse"
	@echo "make lock    re-resolve requirements.in into requirements.lock"
	@echo "make clean   stop the private Postgres, remove .venv, .callshrink, target"

$(INSTALLED): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "callshrink needs Python 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_COMPILE_BYTECODE=1 $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	UV_COMPILE_BYTECODE=1 $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

install: $(INSTALLED)

demo: install
	$(BIN)/callshrink demo

app: install
	$(BIN)/callshrink app

dev: install
	$(BIN)/callshrink dev

# sqlfluff's dbt templater needs a warehouse, so SQL style is checked by tests/lint (pytest).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	eval "$$($(BIN)/callshrink db env)" && $(BIN)/sqlfluff fix models tests/dbt

# tests/browser drives Chromium: ensure-browser finds it, or installs Debian's (as root), or
# stops here saying what to install.
# Two test processes, a whole module to each at a time, the slowest modules first
# (tests/conftest.py); TEST_PROCESSES=1 runs the suite in one.
TEST_PROCESSES ?= 2
test: install lint
	scripts/ensure-browser
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder

lock:
	$(BIN)/uv pip compile --python 3.11 requirements.in -o requirements.lock

clean:
	-$(BIN)/callshrink db stop
	rm -rf $(VENV) .callshrink target logs
