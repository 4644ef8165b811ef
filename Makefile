# Groundswell's developer commands. The README's two set-up commands are `make demo`
# and `make test`; CI (.ci/run) calls the same targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# typecheck and migrations-check load the settings, which need a (throwaway) key.
TEST_SUPPRESSION_KEY := 0000000000000000000000000000000000000000000000000000000000000000

.PHONY: demo test test-fast test-newer-pythons lint format typecheck migrations-check check security bench bench-mail bench-staff bench-scale bench-trust lock browser clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## Set up, load the demo campaigns, and run web + worker + mail catcher (Ctrl-C stops all).
demo: $(STAMP)
	$(BIN)/groundswell demo

## Install everything the tests need (chromium included), then run the whole suite: spread
## over the cores (TEST_JOBS=auto; TEST_JOBS=0 runs it in one process), then the few
## timing tests marked `alone` by themselves (scripts/run-tests).
test: $(STAMP) browser
	bash scripts/run-tests $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/pytest -n "$${TEST_JOBS:-auto}" -m "not browser and not slow" $(PYTEST_ARGS)

## The fast tests again on the newest Python 3.12+ on this machine (CI runs it after `make test`).
test-newer-pythons: $(STAMP)
	bash scripts/test-newer-pythons

browser:
	bash scripts/ensure-chromium

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	SECRET_KEY=typecheck SUPPRESSION_KEY=$(TEST_SUPPRESSION_KEY) $(BIN)/mypy

migrations-check: $(STAMP)
	tmp=$$(mktemp -d); SECRET_KEY=migrations-check SUPPRESSION_KEY=$(TEST_SUPPRESSION_KEY) \
	  GROUNDSWELL_DATA_DIR=$$tmp \
	  $(BIN)/groundswell makemigrations --check --dry-run; rc=$$?; rm -rf $$tmp; exit $$rc

check: lint typecheck migrations-check

## bandit on src/, failing on high severity (skips and reasons: pyproject [tool.bandit]),
## then known vulnerabilities in the pinned dependencies (scripts/audit-dependencies:
## pip-audit needs PyPI's advisory data; where it cannot be reached it says so loudly,
## and AUDIT_STRICT=1 makes that fail).
security: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -r src --severity-level high --quiet
	bash scripts/audit-dependencies

bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null 2>&1; } \
	  || echo "wrk not installed: bench/sign.py uses its asyncio client instead"
	$(BIN)/python bench/sign.py $(BENCH_ARGS)

## The click wave after a send alone: member pages, one-click signing, /go/ (issue 21;
## `make bench` runs these scenarios too).
bench-wave: $(STAMP)
	$(BIN)/python bench/sign.py --wave $(BENCH_ARGS)

bench-mail: $(STAMP)
	$(BIN)/python bench/mail.py

## Two nodes and two workers against one PostgreSQL, then one node lost (kill -9, data
## directory deleted): signatures/s with one and two nodes, and nothing acknowledged lost.
bench-scale: $(STAMP)
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	  nice $(BIN)/python bench/scale.py $(BENCH_ARGS)

## The staff side at a million signatures (figures, export, delivery), SQLite then PostgreSQL.
bench-staff: $(STAMP)
	$(BIN)/python bench/staff_stats.py $(BENCH_ARGS)
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/python bench/staff_stats.py $(BENCH_ARGS)

## The trust page, trending and a 100,000-signature bulk invalidation and its undo at a
## million signatures, SQLite then PostgreSQL.
bench-trust: $(STAMP)
	$(BIN)/python bench/trust.py $(BENCH_ARGS)
	DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} \
	  $(BIN)/python bench/trust.py $(BENCH_ARGS)

# Resolved for the oldest Python we support; every pin has wheels (or a pure-Python
# sdist) for 3.11 to 3.13.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
