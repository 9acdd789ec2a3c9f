# Two commands: `make run` starts the whole suite, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-heavy install protos check-protos lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The committed stubs are regenerated here; `check-protos` (run by the tests) fails if they are stale.
protos: $(STAMP)
	$(BIN)/python -m protogen.main

check-protos: $(STAMP)
	$(BIN)/python -m protogen.main --check

run: $(STAMP) check-protos
	$(BIN)/python -m devstack.main

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not heavy"

test-heavy: $(STAMP)
	$(BIN)/python -m pytest -q -m heavy
	FUZZ_CASES=10000 $(BIN)/python -m pytest -q tests/fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check libs services tools tests bench

typecheck: $(STAMP)
	$(BIN)/mypy libs/scim_core/scim_core libs/suite_common/suite_common services/scim-edge/scim_edge \
	    services/directory/directory services/portal-actions/portal_actions \
	    services/security-events/security_events tools/scimctl/scimctl tools/devstack/devstack

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .run
