# The platform's everyday commands. A fresh machine needs only python3 (3.11+), pip and venv:
#   make run    start the whole platform (nats-server, four services, gateway, demo data)
#   make test   run the test suite
# Both create .venv and install the project into it first, and again whenever
# pyproject.toml or requirements.lock changes. Every package is installed at the version
# pinned in requirements.lock (the versions the tests last passed with); `make lock` pins
# them again after a change to pyproject.toml's dependencies.

PYTHON      ?= python3
VENV        ?= .venv
BIN         := $(VENV)/bin
# Touched after a successful install; older than pyproject.toml or the lock means "install again".
INSTALLED   := $(VENV)/.installed
ARGS        ?=
PYTEST_ARGS ?=
# apt-get needs root; use sudo when we are not root.
SUDO        ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help venv .venv run test bench schemas streams lock browser-deps clean distclean

help:
	@echo "make run           start the platform on this machine; Ctrl-C stops it"
	@echo "                   (options: make run ARGS='--port 9000 --no-demo'; see ARGS='--help')"
	@echo "make test          run the tests (options: make test PYTEST_ARGS='-k registry -x')"
	@echo "make bench         run the benchmarks"
	@echo "make schemas       publish the event JSON Schemas (refuses a breaking change)"
	@echo "make streams       declare the JetStream streams and consumers (ARGS='declare --nats-url ...')"
	@echo "make lock          pin every package again (requirements.lock) after changing pyproject.toml"
	@echo "make browser-deps  install Debian's chromium for the browser tests (needs root or sudo)"
	@echo "make clean         remove caches and build leftovers (keeps .venv and the data folder)"
	@echo "make distclean     clean, and remove .venv too"

$(INSTALLED): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: Python 3.11 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." \
	       "Run e.g. 'make PYTHON=python3.12 ...'." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -c requirements.lock -e ".[dev]"
	@touch $@

venv .venv: $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python -m deploy.embedded run --national-register $(ARGS)

test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED)
	$(BIN)/python -m bench $(ARGS)

schemas: $(INSTALLED)
	$(BIN)/python -m contracts.export $(ARGS)

streams: $(INSTALLED)
	$(BIN)/python -m deploy.streams $(ARGS)

# The lock covers Python 3.11 and newer on every platform (uv's universal resolution), with the
# dev extra; uv is installed into .venv for this only.
lock: $(INSTALLED)
	$(BIN)/pip install -q "uv>=0.13"
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --custom-compile-command "make lock" -q -o requirements.lock

browser-deps:
	@if [ -x /usr/bin/chromium ]; then \
	  echo "chromium is already installed: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	else \
	  $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; \
	fi

# The data folder (.data/) is left alone on purpose: delete it with
#   .venv/bin/python -m deploy.embedded reset --yes
clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .pytest_cache .hypothesis build dist *.egg-info

distclean: clean
	rm -rf $(VENV)

# The portal's message catalogues (gateway/i18n): extract the messages from the portal's templates
# and routes, then merge them into the kk, ru and en .po files (translate the new ones there; the
# gateway compiles the catalogues in memory when it starts, so no .mo files are kept).
.PHONY: i18n
i18n: $(INSTALLED)
	$(BIN)/pybabel extract -F gateway/i18n/babel.cfg --project="NTC portal" --version=1.0 \
	  --copyright-holder="National Tripartite Commission" --no-location --sort-output \
	  -o gateway/i18n/portal.pot gateway/portal
	$(BIN)/pybabel update -D portal -d gateway/i18n/locales -i gateway/i18n/portal.pot --no-fuzzy-matching \
	  --ignore-obsolete --width=100
