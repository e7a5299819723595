# jusou — the two commands: `make run` (the system, with demo data) and `make test` (the whole suite).
# Everything else here serves those two. Needs only Python 3.11+ and make.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
# On SQLite the migrated test database is kept in var/ and reused until a migration changes
# (conftest.py django_db_setup); TEST_DB=--create-db builds it afresh, as CI does.
TEST_DB ?= --reuse-db

.PHONY: run test install install-test migrate demo idp idp-saml worker beat lint format clean

run: install migrate demo  ## Start jusou on http://127.0.0.1:8000 (SQLite and eager Celery unless configured)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-test  ## Run the whole test suite
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(TEST_DB) $(PYTEST_ARGS)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jusou needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A stamp per dependency set, redone whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: install
	$(BIN)/python manage.py loaddemo

idp:  ## The demo OpenID Provider on http://127.0.0.1:9011 (README「統合認証」; needs node and npm)
	npm ci --no-audit --no-fund
	node devdata/idp/oidc.mjs

idp-saml: install  ## The demo SAML 2.0 IdP (pysaml2) on http://127.0.0.1:9012 (README「統合認証」; needs xmlsec1)
	$(BIN)/python devdata/idp/saml.py

worker: install  ## Celery worker (needs REDIS_URL)
	$(BIN)/celery -A jusou worker --loglevel=info

beat: install  ## Celery beat: run exactly one (needs REDIS_URL)
	$(BIN)/celery -A jusou beat --loglevel=info

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache .ruff_cache
