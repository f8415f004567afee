# Tributary's entry points. Each target creates the virtual environment itself on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
STACK ?= dev
PYTEST_ARGS ?=

.PHONY: install plan demo validate test lint package clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## The offline plan: every tenant's resources on stack $(STACK), no AWS credentials needed.
plan: $(STAMP)
	$(BIN)/tributary validate --stack $(STACK)
	$(BIN)/tributary plan --stack $(STACK)

## The sandbox: every example tenant deployed into an emulator on this machine, traffic with
## duplicates, poison pills and faults streamed through it, and every record accounted for.
DEMO_ARGS ?= --events 1000 --duplicates 5 --invalid 2 --out-of-order 5 --faults throttle=5,crash=1
demo: $(STAMP)
	$(BIN)/tributary validate --stack $(STACK)
	$(BIN)/tributary sandbox --stack $(STACK) $(DEMO_ARGS)

validate: $(STAMP)
	$(BIN)/tributary validate --stack $(STACK)

## The whole test suite. CI=true selects the deterministic hypothesis profile.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## The handler's vendored dependencies for Lambda (arm64), needed by `pulumi up`.
package: $(STAMP)
	rm -rf build/lambda-deps
	$(BIN)/python -m pip install --quiet --no-warn-conflicts --target build/lambda-deps \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.14 --only-binary=:all: \
		$$($(BIN)/python -c "from components.packaging import VENDORED; print(' '.join(VENDORED))")

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis .sandbox
