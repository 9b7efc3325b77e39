# OneGrid — the two commands: `make demo` and `make test`. Both are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SCALE ?= district
DEMO_DISTRICT ?= 上海市/宝山区
# Live cases per second the simulator reports while the demo is served (0 = no simulator).
DEMO_RATE ?= 0.5
# Debian packages OneGrid needs: PostGIS (+ pgRouting for walking distances), Chinese fonts,
# Chromium (browser tests, snapshots), poppler (PDF checks).
SYSTEM_PACKAGES := postgresql-15-postgis-3 postgresql-15-pgrouting fonts-wqy-microhei chromium poppler-utils

.PHONY: demo test serve db system venv bench lint clean help

help:
	@echo "make demo   set up everything and serve the dashboard on http://127.0.0.1:$${ONEGRID_PORT:-8050}"
	@echo "make test   set up what tests need and run the whole suite"
	@echo "make bench  run the benchmarks (loads the district-scale demo into its own database)"

system:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

db: system venv
	$(BIN)/onegrid db up
	$(BIN)/onegrid db migrate

demo: db
	$(BIN)/onegrid demo load --if-empty --scale $(DEMO_SCALE) --district '$(DEMO_DISTRICT)'
	@if [ "$(DEMO_RATE)" != "0" ]; then \
	  log="$${ONEGRID_DATA_DIR:-.onegrid}/simulate.log"; mkdir -p "$$(dirname "$$log")"; \
	  echo "simulating live cases at $(DEMO_RATE)/s (log: $$log)"; \
	  $(BIN)/onegrid simulate cases --rate $(DEMO_RATE) --duration 0 --quiet > "$$log" 2>&1 & sim=$$!; \
	  trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/onegrid serve; \
	else \
	  $(BIN)/onegrid serve; \
	fi

serve: venv
	$(BIN)/onegrid serve

test: system venv
	$(BIN)/python -m pytest

bench: db
	@set -e; for b in $(wildcard bench/*.py); do echo "== $$b"; $(BIN)/python $$b; done

lint: venv
	$(BIN)/ruff check app callbacks layers geodata tests bench

clean:
	-$(BIN)/onegrid db down
	rm -rf $(VENV) .onegrid
