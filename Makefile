# Two commands do all the set-up on a fresh machine:
#   make demo   - capture the bundled sample archive into SQLite and show the result
#   make test   - ruff, mypy, import-linter and the whole test suite (real Dovecot, Radicale, PostgreSQL)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := $(BIN)/autocapture --config examples/demo.yaml
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck importlint unit clean-demo

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

demo: $(BIN)/.installed
	$(DEMO) sync
	@echo
	@echo "Contacts captured (autocapture --config examples/demo.yaml contacts list):"
	@$(DEMO) contacts list --limit 100
	@echo
	@echo "Items that could not be captured (autocapture ... errors):"
	@$(DEMO) errors

clean-demo:
	rm -rf examples/demo-data

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The import contracts live in pyproject.toml ([tool.importlinter]).
importlint: $(BIN)/.installed
	$(BIN)/lint-imports

test: lint typecheck importlint
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)
