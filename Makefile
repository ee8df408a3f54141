# caucasus-qa: `make run` sets everything up and opens the chat UI; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/caucasus-qa
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: install run index serve test test-fast lint format bench eval clean loadtest

install: $(STAMP)

# CPU torch first, from the constraints file: an unpinned torch would pull gigabytes of CUDA wheels.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Incremental: embeds only what is missing or changed, so a second run costs well under a second.
index: install
	$(CLI) ingest

run: index
	$(CLI) serve $(ARGS)

serve: install
	$(CLI) serve $(ARGS)

test: install
	$(PY) -m pytest $(ARGS)

test-fast: install
	$(PY) -m pytest -m "not integration and not server and not browser" $(ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix src tests bench
	$(VENV)/bin/ruff format src tests bench

eval: index
	$(CLI) eval --split test --report eval/report $(ARGS)

bench: install
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf .caucasus_qa .pytest_cache .mypy_cache .ruff_cache test-artifacts

# 20 gradio_client clients ask /ask for 60 s while `caucasus-qa ingest` adds documents, Chroma in
# server mode on loopback; starts and stops everything itself. Not part of `make test`.
loadtest: install
	$(PY) bench/loadtest.py $(ARGS)
