# GapSurvey: `make run` serves the app with demo data, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
HOST ?= 127.0.0.1
PORT ?= 8000
# The links in mails and the printed logins follow the port the server runs on,
# unless SITE_URL is set in the environment.
export SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-tools setup worker lint format demo clean bench bench-submit

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "GapSurvey needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p var/static
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py loaddata --verbosity 0 default_questionnaire expectations_questionnaire

demo: setup
	$(BIN)/python manage.py demo

# The worker sends invitations and reminders; it stops with the server.
run: demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops the server and the worker)"
	@$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: setup
	$(BIN)/python manage.py db_worker

# axe-core (accessibility checks in the browser tests) comes from the npm registry.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the browser tests' accessibility checks (Debian package npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

# The browser tests drive Debian's Chromium and check accessibility with axe-core
# from the npm registry. As root, install what is missing (npm only when there is
# none: a Node.js from elsewhere ships its own, and Debian's npm would clash with
# it); otherwise say exactly what to run.
test-tools:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing $$missing for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "The browser tests need $$missing. Install with:"; \
	    echo "  sudo apt-get install -y $$missing"; \
	    echo "then run make test again."; \
	    exit 1; \
	  fi; \
	fi

test: setup test-tools node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Submissions side by side: the peer (django-survey-and-report, installed by
# bench/peer/setup.sh into var/bench/peer-venv), GapSurvey and the floor, then
# cold workers; needs PostgreSQL (BENCH_PG_URL) and wrk. BENCHMARKS.md has the rest.
bench-submit: $(STAMP)
	@command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk"; exit 1; }
	$(BIN)/python -m bench.submit --compare $(BENCH_ARGS)

bench: bench-submit

clean:
	rm -rf $(VENV) var
