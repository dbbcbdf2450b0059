# PrivPad: two commands.
#   make run   install into .venv, migrate, load the demo, serve http://127.0.0.1:8000
#   make test  install what the tests need (dev extras, Debian's chromium, PostgreSQL 15,
#              redis) and run every test, then the database tests again on PostgreSQL.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install install-dev system-deps lint serve demo clean network messages

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "PrivPad needs Python 3.11 (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Debian packages the tests use, installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v xgettext >/dev/null 2>&1 || missing="$$missing gettext"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo

serve: install
	@echo "PrivPad console: http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) -m daphne -b $(HOST) -p $(PORT) console.asgi:application

run: demo serve

# Three paired nodes (alice, bob, carol) in network mode, each with its own data directory under
# var/network/, node service, engine address and console (http://127.0.0.1:8001..8003), with
# the demo project and pipeline loaded across them. Ctrl-C stops them. Options of
# console.nodes.devnet go in NETWORK_OPTIONS, e.g. `make network NETWORK_OPTIONS=--dealer`.
network: install
	$(PY) -m console.nodes.devnet $(NETWORK_OPTIONS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install-dev system-deps lint
	# Every test, in two concurrent sessions: the in-process suite, and beside it the tests
	# that start other processes followed by the console on PostgreSQL (see tests/run_suite.py).
	$(PY) tests/run_suite.py

# Refresh the translation catalogues from the marked strings, then compile them. The compiled
# .mo files are committed (`make run` needs no GNU gettext); a test fails when a marked string
# has no zh-hans translation or a .mo is older than its .po (tests/console/test_translations.py).
MESSAGE_OPTIONS := --no-obsolete --ignore=.venv --ignore=tests --ignore=var --ignore='static/vendor/*'
messages: install system-deps
	$(PY) manage.py makemessages -l zh_Hans $(MESSAGE_OPTIONS)
	$(PY) manage.py makemessages -d djangojs -l zh_Hans $(MESSAGE_OPTIONS)
	$(PY) manage.py compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
