# Knooppunt — the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= deploy/demo/config.yaml
# /asyncapi's viewer, served by the hub itself (no CDN): fetched once from the npm registry.
ASYNCAPI_VIEWER_VERSION := 3.1.5
ASYNCAPI_VIEWER_SHA256  := dbce51c726b998c608ccfa1c802317044016824596c96e725461b2e4a77b40b1
ASYNCAPI_VIEWER         := hub/http/assets/asyncapi

.PHONY: install run test lint unit bench demo kafka-up kafka-down clean backoffices run-backoffices observability-tools

install: $(VENV)/.installed $(ASYNCAPI_VIEWER)/VERSION

$(ASYNCAPI_VIEWER)/VERSION: Makefile
	@sh deploy/assets/fetch-asyncapi-viewer.sh $(ASYNCAPI_VIEWER_VERSION) $(ASYNCAPI_VIEWER_SHA256) $(ASYNCAPI_VIEWER)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Knooppunt needs Python 3.11 or newer; set PYTHON=python3.11")'
	@command -v java >/dev/null || { echo "Java 17+ is needed for the local Kafka broker (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is needed to fetch the Kafka jars (apt-get install maven)"; exit 1; }
	@echo "Installing Knooppunt and its dependencies into $(VENV) (a minute or two the first time; pip shows each package)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $@

# With KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS set, the hub uses that cluster and no local broker starts.
run: install
	@if [ -z "$$KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS" ]; then $(BIN)/knooppunt kafka up; fi
	$(BIN)/knooppunt run --config $(CONFIG)

demo: install
	$(BIN)/knooppunt demo --config $(CONFIG)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/knooppunt contracts check
	$(BIN)/knooppunt contracts docs --check
	$(BIN)/knooppunt connectors docs --check
	$(BIN)/knooppunt metrics docs --check

unit: install
	$(BIN)/pytest tests/unit

test: install lint
	$(BIN)/pytest

# Figures side by side, never part of `make test` (docs/benchmarks.md). BENCH_* variables tune it.
bench: install
	@sh benchmarks/install-loadgen.sh
	$(BIN)/python -m benchmarks

kafka-up: install
	$(BIN)/knooppunt kafka up

kafka-down: install
	$(BIN)/knooppunt kafka down

clean:
	-$(BIN)/knooppunt kafka down
	rm -rf $(VENV) .knooppunt .mypy_cache .ruff_cache .pytest_cache .artifacts $(ASYNCAPI_VIEWER)

# The demo's back offices (ZGW, StUF-ZDS, Objects API, SMTP fakes) on loopback, and a hub routing
# to all four at once: deploy/demo/README.md.
backoffices: install
	$(BIN)/python -m tests.fakes.backoffices

run-backoffices: install
	@if [ -z "$$KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS" ]; then $(BIN)/knooppunt kafka up; fi
	env $$($(BIN)/python -m tests.fakes.backoffices --env) $(BIN)/knooppunt run --config deploy/demo/backoffices.yaml

# promtool and prometheus (Debian's prometheus package, needs root or sudo) for the alert rules'
# tests and the real-scrape test; `make test` fails naming this target when they are missing.
observability-tools:
	sh deploy/observability/install-tools.sh
