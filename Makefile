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
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

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
