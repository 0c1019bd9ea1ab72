# Two commands: `make run` (install + start on SQLite with demo data), `make test` (lint, then the
# whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# First-party plugins: packages of their own, installed like any third-party plugin (the
# example of docs/plugins.md is not installed: its tests import it from its folder).
PLUGIN_PROJECTS := $(filter-out plugins/example_connector/pyproject.toml,$(wildcard plugins/*/pyproject.toml))

.PHONY: install run test test-sqlite test-postgresql lint lint-style bench bench-flow translations clean

$(VENV)/.installed: pyproject.toml $(PLUGIN_PROJECTS)
	@# The app draws flow diagrams with Graphviz's dot and refuses to start without it.
	@command -v dot >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] \
	    || apt-get install -y -qq --no-install-recommends graphviz >/dev/null
	@command -v dot >/dev/null 2>&1 || { echo "Graphviz is missing (flow diagrams need its dot" \
	    "program): run 'sudo apt-get install graphviz', then make again" >&2; exit 1; }
	@# Sealed decisions as PDF (plugins/pdf_seal): WeasyPrint draws text with Pango, in a CJK font.
	@dpkg-query -W -f='$${Status}\n' libpango-1.0-0 fonts-wqy-microhei 2>/dev/null | grep -c 'ok installed' \
	    | grep -qx 2 || [ "$$(id -u)" != 0 ] || apt-get install -y -qq --no-install-recommends \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei >/dev/null
	$(PYTHON) -m venv $(VENV)
	@# uv resolves, downloads and builds in parallel and keeps a cache: about 30 s where pip took
	@# over two minutes (docs/decisions.md). Bytecode is compiled at install, as pip does: a
	@# package compiled at import under the tests' warnings-as-errors fails on its old escapes.
	@# The venv keeps its pip for installing plugins by hand.
	$(PY) -m pip install --quiet 'uv>=0.5'
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[test,bench]' \
	    $(foreach project,$(dir $(PLUGIN_PROJECTS)),-e $(project))
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) run.py

# Style first: a ruff error fails fast, before the long suite (CI runs this target). mypy runs
# inside the suite (tests/spine/test_typing.py), beside the other tests rather than before them:
# cold, in a fresh clone, it is half a minute of one core that the lanes' start need not wait for.
test: install lint-style
	bash scripts/ensure-test-deps.sh
	bash scripts/ensure-services.sh
	bash scripts/run-tests.sh $(PYTEST_ARGS)

test-sqlite: install
	$(PY) -m pytest --db=sqlite $(PYTEST_ARGS)

test-postgresql: install
	bash scripts/ensure-services.sh
	$(PY) -m pytest --db=postgresql $(PYTEST_ARGS)

lint: lint-style
	$(VENV)/bin/mypy

lint-style: install
	$(VENV)/bin/ruff check platform tests plugins bench run.py

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
