# Tributary's entry points. Each target creates the virtual environment itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of extras (pyproject.toml): the program and CLI alone, the sandbox, or everything for
# tests. A changed pyproject.toml reinstalls.
PYPROJECT_SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
CORE := $(VENV)/.installed-core-$(PYPROJECT_SUM)
SANDBOX := $(VENV)/.installed-sandbox-$(PYPROJECT_SUM)
DEV := $(VENV)/.installed-dev-$(PYPROJECT_SUM)
BENCH := $(VENV)/.installed-bench-$(PYPROJECT_SUM)
STACK ?= dev
PYTEST_ARGS ?=

.PHONY: install plan demo validate test lint bench package clean

$(VENV)/.installed-%-$(PYPROJECT_SUM): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '$(if $(filter core,$*),.,.[$*])'
	rm -f $(VENV)/.installed-$*-* && touch $@

install: $(DEV)

## The offline plan: every tenant's resources on stack $(STACK), no AWS credentials needed.
plan: $(CORE)
	$(BIN)/tributary validate --stack $(STACK)
	$(BIN)/tributary plan --stack $(STACK)

## The sandbox: every example tenant deployed into an emulator on this machine, traffic with
## duplicates, poison pills and faults streamed through it, and every record accounted for.
DEMO_ARGS ?= --events 1000 --duplicates 5 --invalid 2 --out-of-order 5 --faults throttle=5,crash=1
demo: $(SANDBOX)
	$(BIN)/tributary validate --stack $(STACK)
	$(BIN)/tributary sandbox --stack $(STACK) $(DEMO_ARGS)

validate: $(CORE)
	$(BIN)/tributary validate --stack $(STACK)

## The whole test suite. CI=true selects the deterministic hypothesis profile.
test: $(DEV)
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .

## The benchmarks: the handler against the network floor and the seed article's baselines, its import cost, the
## plan's per-tenant cost and the sandbox's rate; bench/RESULTS.md and bench/throughput.png are rewritten.
## BENCH_ARGS=--quick stops the plan at 100 tenants; `python -m bench --help` lists the rest.
BENCH_ARGS ?=
bench: $(BENCH)
	$(BIN)/python -m bench $(BENCH_ARGS)

## The handler's vendored dependencies for Lambda (arm64), needed by `pulumi up`.
package: $(CORE)
	rm -rf build/lambda-deps
	$(BIN)/python -m pip install --quiet --no-warn-conflicts --target build/lambda-deps \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.14 --only-binary=:all: \
		$$($(BIN)/python -c "from components.packaging import VENDORED; print(' '.join(VENDORED))")

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .sandbox
