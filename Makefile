# Two commands do all set-up on a fresh machine: `make run` (the app + local services) and
# `make test` (the whole suite against the real emulators). See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: help setup emulators bootstrap run up down status test unit lint format bench clean browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# obp 0.4.1 only for the Open Bandit Dataset sample in its wheel (bench/obd.py reads the files,
# never imports obp); --no-deps skips its torch/sklearn/pandas, and a requirements file cannot say so
$(PY_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps obp==0.4.1
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(PY_STAMP) $(NODE_STAMP) ## create .venv, install Python and npm dependencies

emulators: setup ## start Azurite and the Cosmos DB emulator in the background
	$(PY) -m devstack emulators

bootstrap: emulators ## create databases, containers and queues
	$(PY) -m devstack bootstrap

run: setup ## run the app and its local services in the foreground (Ctrl-C stops all)
	$(PY) -m devstack run

up: setup ## start everything in the background; returns when /api/health is 200
	$(PY) -m devstack up

down: ## stop everything `make up`/`make run` started
	@if [ -x $(PY) ]; then $(PY) -m devstack down; fi

status: setup ## show which local services are up
	$(PY) -m devstack status

lint: setup ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared functions function_app.py devhost devstack

format: setup ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

browser: ## Debian's Chromium for the browser tests (Playwright drives it; no browser download)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: setup lint browser ## the whole suite against real Azurite + Cosmos emulator, coverage summary
	$(PY) -m devstack emulators
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

unit: setup ## the unit tests only: no emulators needed, a few seconds
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

bench: setup ## benchmarks (bench/), results into docs/benchmarks.md
	$(PY) -m bench --help

clean: down ## remove local state (emulator data, venv, node_modules)
	rm -rf .azurite .run $(VENV) node_modules
