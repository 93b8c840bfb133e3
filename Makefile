# ucap: the two commands are `make run` and `make test`; the rest are their parts.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_CACHE_DIR := $(CURDIR)/.cache/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
CHECKED := shared/src services/*/src deploy/local deploy/demo deploy/bench tests

.PHONY: help install lock tools infra-up infra-down infra-status lint format test test-unit run up stop status contracts demo-feed scale-tools scale-up scale-down scale-status test-scale

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	@echo "installing uv $(UV_VERSION) into $(TOOLS)"
	@python3 -m venv $(TOOLS) && $(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

PACKAGES := shared $(wildcard services/*)
INSTALLED := .venv/.ucap-installed

install: $(INSTALLED) ## install every package (editable) and the dev tools into .venv

# requirements.lock pins every third-party package with its hashes; our own
# packages are installed editable on top of it. Compiled to bytecode here, once: where
# PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile each module it
# imports, every time (a service's start then costs 2.8 s of CPU instead of 1.1 s).
$(INSTALLED): $(UV) requirements.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	@$(UV) venv --quiet --allow-existing --python python3.11 .venv
	@$(UV) pip sync --quiet --compile-bytecode --python .venv/bin/python requirements.lock
	@$(UV) pip install --quiet --compile-bytecode --python .venv/bin/python --no-deps $(addprefix -e ,$(PACKAGES))
	@touch $@

# Each image installs its own production lock: the service's runtime packages only (no
# dev group), pinned as in requirements.lock, with their hashes. Our own packages are
# built in the image with the build backend pinned in requirements-build.lock.
IMAGES := $(patsubst services/%/pyproject.toml,%,$(wildcard services/*/pyproject.toml))
IMAGES := $(filter-out ops,$(IMAGES))

lock: $(UV) ## re-resolve after a pyproject.toml change; writes requirements.lock and every image's lock
	@$(UV) lock --quiet
	@$(UV) export --quiet --frozen --all-packages --all-groups --no-emit-workspace --no-header -o requirements.lock
	@for name in $(IMAGES); do \
	  $(UV) export --quiet --frozen --package ucap-$$name --no-dev --no-emit-workspace --no-header \
	    -o services/$$name/requirements.lock || exit 1; \
	done
	@echo hatchling | $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	  --no-header - -o requirements-build.lock

infra-up: install ## start local Kafka, PostgreSQL and FerretDB (or use KAFKA_BOOTSTRAP_SERVERS / MONGODB_URI)
	@$(PY) deploy/local/ucap_infra.py up

infra-down: ## stop the local Kafka, PostgreSQL and FerretDB started here
	@python3 deploy/local/ucap_infra.py down

infra-status: ## say whether Kafka and MongoDB answer
	@$(PY) deploy/local/ucap_infra.py status

lint: install ## ruff check, ruff format --check, mypy --strict, lint-imports (the import contracts)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy $(CHECKED)
	.venv/bin/lint-imports --no-cache

format: install ## apply ruff's fixes and formatting
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

tools: ## Debian's chromium for the page tests, wrk for the benchmarks, prometheus (promtool) for the alert rules, where missing
	@command -v chromium >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and wrk with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium wrk >/dev/null; \
	  else echo "chromium or wrk missing and not root: the browser tests will be skipped"; fi; }
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing prometheus (for promtool) with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "promtool missing and not root: the alert rules are checked against a scrape only"; fi; }

# Most tests wait on processes, Kafka and the database; past two, the cores are the limit.
TEST_WORKERS ?= 2

# Python may cache our own modules' bytecode too (each test starts many processes).
# Each worker takes one half of the tests in their order and, once done, half of what the
# other has left (--dist worksteal): a module's tests mostly stay on one worker, so its
# fixtures (a whole stack with Granada loaded: 15-40 s) are seldom set up twice.
test: infra-up tools lint ## install, start the infrastructure, lint, type-check, run every test
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Every test in these folders is end-to-end (tests/conftest.py): not even collected here.
END_TO_END_FOLDERS := e2e smoke scale

test-unit: install ## the unit tier alone: no Kafka, no MongoDB, no service process (under 30 s)
	env -u PYTHONDONTWRITEBYTECODE .venv/bin/pytest -m unit -q -n 2 -p no:schemathesis --hypothesis-profile=quick $(addprefix --ignore=tests/,$(END_TO_END_FOLDERS)) $(PYTEST_ARGS)

run: install ## run the whole system with the Granada demo loaded (UCAP_DEMO=0: without); Ctrl-C stops it
	@$(PY) deploy/local/ucap_stack.py run --infra

up: infra-up ## start the whole system in the background
	@$(PY) deploy/local/ucap_stack.py up

demo-feed: install ## partner cities post progress to the demo at a steady rate (after make run; ARGS="--rate 2")
	@$(PY) deploy/demo/feed.py $(ARGS)

stop: ## stop every service and the local infrastructure
	@python3 deploy/local/ucap_stack.py down
	@python3 deploy/local/ucap_infra.py down

status: ## health of the infrastructure and every service
	@$(PY) deploy/local/ucap_infra.py status; $(PY) deploy/local/ucap_stack.py status

scale-tools: ## Debian's haproxy, the scaled-out stack's load balancer, where missing
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing haproxy with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null; \
	  else echo "haproxy missing and not root: install Debian's haproxy package"; exit 1; fi; }

scale-up: install scale-tools ## three Kafka brokers, two replicas of every service behind HAProxy (.run/scale)
	@$(PY) deploy/local/ucap_scale.py up

scale-down: ## stop what scale-up started
	@python3 deploy/local/ucap_scale.py down

scale-status: ## whether every process of the scaled-out stack runs and its gateway answers
	@$(PY) deploy/local/ucap_scale.py status

test-scale: install scale-tools ## kill -9 replicas and brokers of a scaled-out stack under a write load (a few minutes)
	.venv/bin/pytest tests/scale -m scale -s $(PYTEST_ARGS)

contracts: install ## regenerate contracts/ (event JSON Schemas, examples, AsyncAPI) from the models
	@$(PY) deploy/local/ucap_contracts.py
