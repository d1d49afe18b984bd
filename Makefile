# isdas: the two set-up commands are `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOME_DIR ?= ./isdas-data
JOBS    ?= 2

.PHONY: run demo-batch test check fmt bench docs clean system-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

## run: create .venv, install, and run the main job (simulate -> ingest -> detect -> publish -> serve)
run: $(STAMP)
	$(BIN)/isdas --home $(HOME_DIR) demo

## demo-batch: the batch part of `make run` only (no server)
demo-batch: $(STAMP)
	$(BIN)/isdas --home $(HOME_DIR) demo --no-serve

system-deps:
	bash scripts/system-deps.sh

## check: ruff, ruff format --check, mypy --strict on src
check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

## test: the checks, then the whole test suite
test: $(STAMP) system-deps check
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup

## bench: speed targets as ratios against peers measured in the same run
bench: $(STAMP)
	$(BIN)/python -m benchmarks

docs: $(STAMP)
	COLUMNS=100 $(BIN)/python scripts/gen_cli_docs.py > docs/cli.md

clean:
	rm -rf $(VENV) isdas-data .pytest_cache .mypy_cache .ruff_cache
