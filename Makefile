# The two commands a newcomer needs: `make demo` runs the demo, `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: setup demo serve test test-fast translations clean

setup: $(VENV)/.installed web/static/vendor/.built translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11), \"Python 3.11 or newer is needed\""
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# Front-end libraries come from npm and are copied into web/static/vendor (not in git).
web/static/vendor/.built: package.json package-lock.json
	npm ci --no-audit --no-fund
	npm run build
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d web/translations

demo: setup
	$(BIN)/wms demo

serve: setup
	$(BIN)/wms db upgrade && $(BIN)/wms serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

clean:
	rm -rf $(VENV) node_modules web/static/vendor var
