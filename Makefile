# Local Partnerships: the two commands are `make run` and `make test`.
# Every target sets up what it needs, so both work from a clean clone.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Run tests on every core (pytest-xdist); override with PYTEST_ARGS= for a serial run.
PYTEST_ARGS ?= -n auto
export FLASK_APP := wsgi:app
# Keep compiled bytecode (and pytest's rewritten test modules) between the processes
# of a run, even where the environment turns writing it off.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test test-postgres setup assets db demo lint typecheck bench clean help

help:
	@echo "make run   - set everything up, load the demo data and serve on http://127.0.0.1:$(PORT)"
	@echo "make test  - set everything up and run the whole test suite (SQLite, or TEST_DATABASE_URL)"
	@echo "make test-postgres - the suite again on PostgreSQL (a throwaway cluster, or TEST_DATABASE_URL)"
	@echo "make lint  - ruff check"
	@echo "make typecheck - mypy, strict on partnerships/ ([tool.mypy] in pyproject.toml)"
	@echo "make bench - benchmarks at scale with gunicorn and wrk (bench/; results in bench/results/)"

run: setup db demo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite on PostgreSQL: on the server TEST_DATABASE_URL names (a database per test
# worker is created and dropped there), or on a throwaway local cluster started by
# .ci/postgres (Debian's `postgresql` package). Browser tests run only in `make test`.
test-postgres: setup
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/python -m pytest $(PYTEST_ARGS) -m "not browser"; \
	else \
	  .ci/postgres $(BIN)/python -m pytest $(PYTEST_ARGS) -m "not browser"; \
	fi

setup: $(BIN)/.installed assets

# Python: a virtualenv with the package, its pinned ranges, and the test extras.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Front end: npm ci from the lockfile, then copy and build into static/vendor/.
assets: static/vendor/.built

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.built: node_modules/.installed $(wildcard static/scss/*.scss)
	rm -rf static/vendor && mkdir -p static/vendor/govuk
	cp -R node_modules/govuk-frontend/dist/govuk/assets static/vendor/govuk/assets
	rm -rf static/vendor/govuk/assets/fonts
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/vendor/govuk/
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	node_modules/.bin/sass --pkg-importer=node --style=compressed --no-source-map --quiet-deps \
		static/scss/app.scss static/vendor/app.css
	touch $@

db: setup
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask seed demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

# Not part of `make test`: builds (once, then cached in bench/.data/) the scale data at full
# size and one tenth, serves it with gunicorn and drives each page with wrk (about 10 minutes).
bench: setup $(BIN)/.bench-installed
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)

$(BIN)/.bench-installed: pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $@

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
