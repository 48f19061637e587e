# Postroom: the two commands a new user needs are `make demo` and `make test`.
# Each creates its own virtual environment (.venv) on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench lint schema clean ui ui-schemas cluster

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

UI_STAMP := src/postroom/web/_ui/index.html
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/package.json ui/package-lock.json ui/vite.config.ts ui/tsconfig.json

## Build the browser app into src/postroom/web/_ui (`postroom serve` serves it at /); only when
## ui/src or the lockfile changed. Needs Node.js and npm (apt-get install nodejs npm).
ui: $(UI_STAMP)

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

$(UI_STAMP): ui/node_modules/.package-lock.json $(UI_SOURCES)
	cd ui && npm run build
	touch $(UI_STAMP)

## Rewrite ui/src/test/realSchemas.json (the connector and shape schemas the app's vitest form
## tests render) from what the server answers; tests/web/test_ui_schema_snapshot.py fails when it is stale.
ui-schemas: $(STAMP)
	$(BIN)/python tools/gen_ui_schemas.py

## Start the built-in mail server, import the Dr. Smith example, send the letters, show them.
demo: $(STAMP) ui
	$(BIN)/python examples/dr-smith/run_demo.py

## Run the whole test suite (real servers: devmail, Dovecot, Postfix tools, PostgreSQL; the
## browser app's unit tests, then its browser tests in Debian's chromium). TEST_JOBS pytest
## workers at once (pytest-xdist; most tests wait on servers, so more workers than cores pay);
## TEST_JOBS=0 runs them one by one. The browser tests stay together on one worker.
TEST_JOBS ?= 3
test: $(STAMP) ui
	cd ui && npm test --silent
	$(BIN)/pytest -q -n $(TEST_JOBS) --dist loadgroup $(PYTEST_ARGS)

## The fast tier, on every edit: the tests marked `fast` (no server, no subprocess, no sleep;
## tests/support/fast_tier.py fails a marked test that starts one). Under 30 s.
test-fast: $(STAMP)
	POSTROOM_TEST_TIER=fast $(BIN)/pytest -q -m fast $(PYTEST_ARGS)

## A local cluster from Debian's binaries: Redis, PostgreSQL, two workers and serve (docs/scale.md).
cluster: $(STAMP)
	$(BIN)/python tools/cluster.py $(CLUSTER_ARGS)

## Speed and memory benchmarks; each prints ratios against a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## ruff over the code and the tests, mypy over src (its settings are in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info src/postroom/web/_ui ui/node_modules
