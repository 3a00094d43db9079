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

lint: venv  ## ruff, mypy on the core and the dev package, every shipped policy validated
	$(BIN)/ruff check .
	$(BIN)/mypy layers/relance/relance devtools/relance_dev
	$(BIN)/relance policy validate policies/*.yaml
	$(BIN)/python -m relance_dev.embedded.translate --lint template.yaml

demo: venv  ## simulate the demo season on the embedded local AWS; prints where the report is
	$(BIN)/relance simulate events/demo-season.yaml --out out/demo

bench: venv  ## run the benchmarks, write bench/results.json and print it as a table
	$(BIN)/python -m bench.run

# SAM CLI lives in its own venv: it pins a boto3 of its own, which must not meet the project's.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .sam-venv
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.aws-sam-cli-$(SAM_CLI_VERSION)
# The layer's zip (what `sam deploy` uploads) must stay small: cold starts and the 250 MB limit.
LAYER_ZIP_MAX_MB ?= 21
BUILD_DIR ?= .aws-sam/build

$(SAM_STAMP):
	@test -n "$(PYTHON)" || { echo "no python3 >= 3.11 found" >&2; exit 2; }
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	@touch $@

# No Docker: python3.13 must be on PATH for SAM's python builder (the interpreter found above is put
# first); the layer's wheels are fetched for manylinux aarch64 / cp313 by layers/relance/Makefile.
# --no-cached: the layer also copies policies/ and letter_templates/, which SAM's cache key ignores.
build: $(SAM_STAMP)  ## sam build without Docker: the functions and the core layer (python3.13, arm64)
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || \
	  echo "warning: $(PYTHON) is not Python 3.13; sam build needs python3.13 on PATH" >&2
	PATH="$$(dirname "$(PYTHON)"):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --no-cached \
	  --template-file template.yaml --build-dir $(BUILD_DIR)
	@"$(PYTHON)" -c 'import io, os, sys, zipfile; root, limit = sys.argv[1], float(sys.argv[2]); \
	  buf = io.BytesIO(); z = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED); \
	  [z.write(os.path.join(d, f), os.path.relpath(os.path.join(d, f), root)) for d, _, fs in os.walk(root) for f in fs]; \
	  z.close(); mb = len(buf.getvalue()) / 1e6; print(f"CoreLayer zip: {mb:.1f} MB (limit {limit:g} MB)"); \
	  sys.exit(2 if mb > limit else 0)' $(BUILD_DIR)/CoreLayer $(LAYER_ZIP_MAX_MB)

clean:  ## remove the virtual environment and build outputs
	rm -rf $(VENV) .aws-sam out
