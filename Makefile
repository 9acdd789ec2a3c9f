# Two commands: `make run` starts the whole suite, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-heavy install protos check-protos lint typecheck check bench clean

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

# pytest exits 5 when it collected no test: a run that checked nothing fails, and says so.
test: $(STAMP)
	@echo '$(BIN)/python -m pytest -q -m "not heavy" $(PYTEST_ARGS)'
	@$(BIN)/python -m pytest -q -m "not heavy" $(PYTEST_ARGS) || { rc=$$?; \
	    if [ $$rc -eq 5 ]; then echo "make test: pytest ran no tests (none collected, or all deselected: $(PYTEST_ARGS))" >&2; fi; exit $$rc; }

test-heavy: $(STAMP)
	$(BIN)/python -m pytest -q -m heavy
	FUZZ_CASES=10000 $(BIN)/python -m pytest -q tests/fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check libs services tools tests bench

# One mypy run: services, libs and tools under --strict, tests and bench with the relaxed override of
# pyproject.toml (annotations optional, annotated code checked).
TYPED := libs/scim_core/scim_core libs/suite_common/suite_common services/scim-edge/scim_edge \
    services/directory/directory services/portal-actions/portal_actions \
    tools/scimctl/scimctl tools/devstack/devstack tools/protogen/protogen tests bench
typecheck: $(STAMP)
	$(BIN)/mypy $(TYPED)

# What CI checks besides the tests (`.ci/run` runs this and `make test`; the tests check the protos).
check: lint typecheck

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .run
