# relance: developer entry points. `make help` lists them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Python 3.13 (the Lambda runtime) where the machine has one, otherwise any python3 >= 3.11.
PYTHON ?= $(shell for p in "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python python3.13 python3; do \
	  if command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo "$$p"; break; fi; done)
export AWS_DEFAULT_REGION ?= eu-west-3

.PHONY: help venv test test-slow lint demo bench build clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(BIN)/relance: pyproject.toml
	@test -n "$(PYTHON)" || { echo "no python3 >= 3.11 found" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(BIN)/relance  ## create .venv/ with the project and its dev tools installed

test: venv  ## run every test (unit, integration on moto, scenario seasons)
	$(BIN)/pytest

test-slow: venv  ## the long randomized and load runs
	$(BIN)/pytest -m slow

lint: venv  ## ruff, mypy on the core, every shipped policy validated
	$(BIN)/ruff check .
	$(BIN)/mypy layers/relance/relance
	$(BIN)/relance policy validate policies/*.yaml
	$(BIN)/python -m relance.local.translate --lint template.yaml

demo: venv  ## simulate the demo season on the embedded local AWS; prints where the report is
	$(BIN)/relance simulate events/demo-season.yaml --out out/demo

bench: venv  ## run the benchmarks, write bench/results.json and print it as a table
	$(BIN)/python -m bench.run

build:  ## sam build without Docker: the functions and the core layer (python3.13, arm64)
	@SAM="$$(command -v .sam-venv/bin/sam || command -v sam)" || { \
	  echo "sam not found: python3 -m venv .sam-venv && .sam-venv/bin/pip install aws-sam-cli" >&2; exit 2; }; \
	PATH="$$(dirname "$(PYTHON)"):$$PATH" SAM_CLI_TELEMETRY=0 "$$SAM" build --template-file template.yaml

clean:  ## remove the virtual environment and build outputs
	rm -rf $(VENV) .aws-sam out
