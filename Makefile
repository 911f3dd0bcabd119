# leadroute developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest format migration clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the API with embedded job workers on the SQLite default (./leadroute.db).
run: $(STAMP)
	$(BIN)/leadroute serve

## Lint, type-check and run the whole test suite on SQLite and PostgreSQL.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format src tests scripts bench
	$(BIN)/ruff check --fix src tests scripts bench

## Regenerate migration 0001 from the models (pre-release only).
migration: $(STAMP)
	PATH=$(BIN):$$PATH $(BIN)/python scripts/regenerate_initial_migration.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## Fuzz every API operation with schemathesis, 100 examples each, on SQLite and PostgreSQL
## (the normal test suite runs the same tests with 10). FUZZ_EXAMPLES=1000 for a longer run.
FUZZ_EXAMPLES ?= 100
.PHONY: fuzz
fuzz: $(STAMP)
	LEADROUTE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/fuzz

## Benchmarks: 1M leads on SQLite and PostgreSQL (about 30 min), written to docs/benchmarks.md
## and bench/results/latest.json. BENCH_ARGS="--quick" is a 100k-lead smoke run;
## `$(BIN)/python -m bench --help` lists the options.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## Time `leadroute leads import` of a 100,000-row CSV through the API on SQLite (target < 30 s);
## `make bench` then shows the figure in docs/benchmarks.md.
.PHONY: bench-import
bench-import: $(STAMP)
	$(BIN)/python -m bench.csv_import --rows 100000
