# Postroom: the two commands a new user needs are `make demo` and `make test`.
# Each creates its own virtual environment (.venv) on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast bench lint schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## Start the built-in mail server, import the Dr. Smith example, send the letters, show them.
demo: $(STAMP)
	$(BIN)/python examples/dr-smith/run_demo.py

## Run the whole test suite (real servers: devmail, Dovecot, Postfix tools, PostgreSQL).
test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

## The fast tier, on every edit: the tests marked `fast` (no server, no subprocess, no sleep;
## tests/support/fast_tier.py fails a marked test that starts one). Under 30 s.
test-fast: $(STAMP)
	POSTROOM_TEST_TIER=fast $(BIN)/pytest -q -m fast $(PYTEST_ARGS)

## Speed and memory benchmarks; each prints ratios against a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## ruff over the code and the tests, mypy over src (its settings are in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info
