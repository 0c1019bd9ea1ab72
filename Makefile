# Two commands: `make run` (install + start on SQLite with demo data), `make test` (lint, then the
# whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install run test test-sqlite test-postgresql lint bench bench-flow translations clean

$(VENV)/.installed: pyproject.toml plugins/sql_connector/pyproject.toml
	@# The app draws flow diagrams with Graphviz's dot and refuses to start without it.
	@command -v dot >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] \
	    || apt-get install -y -qq --no-install-recommends graphviz >/dev/null
	@command -v dot >/dev/null 2>&1 || { echo "Graphviz is missing (flow diagrams need its dot" \
	    "program): run 'sudo apt-get install graphviz', then make again" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m pip install --quiet -e plugins/sql_connector
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) run.py

# Lint first: a type or style error fails fast, before the long suite (CI runs this target).
test: install lint
	bash scripts/ensure-test-deps.sh
	bash scripts/ensure-services.sh
	bash scripts/run-tests.sh $(PYTEST_ARGS)

test-sqlite: install
	$(PY) -m pytest --db=sqlite $(PYTEST_ARGS)

test-postgresql: install
	bash scripts/ensure-services.sh
	$(PY) -m pytest --db=postgresql $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check platform tests bench run.py
	$(VENV)/bin/mypy

bench: install bench-flow
	bash scripts/ensure-test-deps.sh
	$(PY) bench/forms.py

# The flow engine: in process against SpiffWorkflow, SQLite through the runtime, and the inbox
# over a million open tasks on PostgreSQL (a scratch database, dropped at the end).
bench-flow: install
	bash scripts/ensure-services.sh
	$(PY) bench/flow.py

translations: install
	$(PY) scripts/update_translations.py

clean:
	rm -rf $(VENV) instance test-output node_modules
