# Taskforce: `make run` starts the embedded marketplace, `make test` runs the whole suite.
# Everything installs into .venv from uv.lock; uv itself is installed with pip when missing.

PYTHON ?= python3
UV_VERSION ?= 0.13.9
VENV := .venv
# The offline checkers of deploy/k8s (checkov, kubernetes-validate): their own locked
# environment, since checkov pins older versions of packages the services use.
K8S_CHECKS := deploy/k8s/checks
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif

.PHONY: install run test test-fast bench lint fmt docs images clean

$(UV):
	@echo "uv not found: installing uv $(UV_VERSION) with pip into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

$(K8S_CHECKS)/.venv/.installed: $(K8S_CHECKS)/pyproject.toml $(K8S_CHECKS)/uv.lock | $(UV)
	$(UV) sync --frozen --project $(K8S_CHECKS) --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed $(K8S_CHECKS)/.venv/.installed  ## both environments from their lock files; starts nothing

run: $(VENV)/.installed  ## broker, four services and demo data on 127.0.0.1:8080; ARGS=--no-demo etc.
	$(VENV)/bin/taskforce run $(ARGS)

test: install  ## unit, contract, integration (SQLite and PostgreSQL) and end-to-end tests
	$(VENV)/bin/pytest

test-fast: install  ## everything but the end-to-end tests
	$(VENV)/bin/pytest -m "not e2e"

bench: $(VENV)/.installed  ## benchmarks; prints a table with the figures and the machine
	$(VENV)/bin/python -m benchmarks

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy services/kernel services/matching/scoring.py services/matching/index.py services/matching/candidates.py services/matching/solver.py

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

docs: $(VENV)/.installed  ## regenerate the OpenAPI and AsyncAPI documents under docs/api/, and the authorization matrix in docs/security.md
	$(VENV)/bin/python -m taskforce.apidocs
	$(VENV)/bin/python -m services.gateway.policy docs/security.md

images:  ## the one container image for every service, taskforce:<git describe>; needs a Docker engine
	@command -v docker >/dev/null 2>&1 || { echo "make images: no docker command here; build the image where a Docker engine runs" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make images: docker cannot reach a Docker engine; start one or build in CI" >&2; exit 1; }
	docker build --build-arg UV_VERSION=$(UV_VERSION) -t taskforce:$$(git describe --always --dirty) .

clean:
	rm -rf $(VENV) $(K8S_CHECKS)/.venv .tools var .pytest_cache .ruff_cache .mypy_cache
