# The README's contract: `make run` and `make test`. CI (.ci/run) calls `make test` once per database.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
SIM_PORT ?= 5010

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# The CJK TrueType font embedded in certificate PDFs (Debian package; CERT_FONT_FILE may name another).
CERT_FONT ?= /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
$(CERT_FONT):
	apt-get install -y -q fonts-wqy-zenhei || (apt-get update -q && apt-get install -y -q fonts-wqy-zenhei)

# Debian's Chromium for the Playwright browser tests (no browser download is possible here), with CJK fonts.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y -q chromium fonts-noto-cjk || (apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk)

# The admin bundles, built with esbuild from admin_ui/ (not committed): the process designer (bpmn-js +
# properties panel + our spiffworkflow extension) and the dashboard charts (echarts) into app/static/admin/build/,
# the small read-only viewer (workbench case page, portal guide) into app/static/viewer/build/, and the fees'
# condition builder of the type page (admin/build/conditions.js). One `npm run build` writes them all; rebuilt
# only when their sources or lock change.
ADMIN_UI_BUNDLE := app/static/admin/build/designer.js app/static/viewer/build/viewer.js \
	app/static/admin/build/conditions.js
CHARTS_BUNDLE := app/static/admin/build/charts.js
ADMIN_UI_SOURCES := $(wildcard admin_ui/src/*)
admin_ui/node_modules/.installed: admin_ui/package.json admin_ui/package-lock.json
	cd admin_ui && npm ci --no-audit --no-fund
	touch $@

$(ADMIN_UI_BUNDLE) $(CHARTS_BUNDLE) &: admin_ui/node_modules/.installed $(ADMIN_UI_SOURCES)
	cd admin_ui && npm run build --silent

admin-ui: $(ADMIN_UI_BUNDLE) $(CHARTS_BUNDLE) ## Build the designer, viewer and charts bundles (npm ci + esbuild, only when admin_ui changed)

install: $(VENV)/.installed $(CERT_FONT) $(CHROMIUM) $(ADMIN_UI_BUNDLE) $(CHARTS_BUNDLE) ## Create .venv, install the project with test extras, fonts, Chromium, admin bundles

setup: install ## Generate random dev keys into instance/keys.env (first time), migrate, load definitions and demo data
	$(BIN)/python -m app.security.keygen
	$(FLASK) setup --demo

run: setup ## Serve http://127.0.0.1:5000 with SQLite and demo data, the department simulator on :5010
	@$(BIN)/python -m simulator --host $(HOST) --port $(SIM_PORT) & SIM=$$!; \
	trap 'kill $$SIM 2>/dev/null' EXIT INT TERM; \
	INTEGRATIONS_BASE_URL=$${INTEGRATIONS_BASE_URL:-http://$(HOST):$(SIM_PORT)} \
	CALLBACK_BASE_URL=$${CALLBACK_BASE_URL:-http://$(HOST):$(PORT)} SCHEDULER_ENABLED=$${SCHEDULER_ENABLED:-1} \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production serving (docs/deployment.md): gunicorn with app/serving.py over PostgreSQL. Migrations are a separate
# deploy step (`flask --app wsgi setup` as the tables' owner): the app's role cannot migrate, and /readyz answers 503
# ("migrations") until the schema matches the code.
serve-database-url:  # first, before any install: the one thing serve cannot default
	@case "$$DATABASE_URL" in postgresql*) ;; \
	  *) echo "make serve: set DATABASE_URL to the PostgreSQL database (postgresql+psycopg://bdcdj_app@host/bdcdj); see docs/deployment.md" >&2; exit 2;; esac

serve: serve-database-url $(VENV)/.installed $(CERT_FONT) $(ADMIN_UI_BUNDLE) $(CHARTS_BUNDLE) ## Serve with gunicorn over PostgreSQL (DATABASE_URL): WEB_CONCURRENCY workers, the scheduler in one
	SCHEDULER_ENABLED=$${SCHEDULER_ENABLED:-1} MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} \
	$(BIN)/gunicorn -c python:app.serving --bind $(HOST):$(PORT)

simulator: install ## Serve only the department simulator on :5010 (make run starts it too)
	$(BIN)/python -m simulator --host $(HOST) --port $(SIM_PORT)

# docs/federation.md "The four-platform demo": national, 浙江, 杭州, 宁波 as four processes, each its own database
# (SQLite under instance/federation/<code>/, or FEDERATION_DEMO_DATABASE_URL's PostgreSQL server) and keys.
federation-demo: install ## Four platforms (national :5100, 浙江 :5101, 杭州 :5102, 宁波 :5103) and the simulator (:5104); Ctrl-C stops all
	$(BIN)/python -m app.federation_demo

# pytest-xdist workers, each with its own databases, simulator and live servers (bench/README.md "Test suite").
TEST_WORKERS ?= 2

test: install ## Run the whole test suite in parallel (SQLite, or TEST_DATABASE_URL)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: install ## The suite without the browser and slow tests (markers `browser`, `slow`)
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser and not slow"

lint: install ## ruff, import-linter (the one-way stack in setup.cfg [importlinter]) and mypy (setup.cfg [mypy])
	$(BIN)/ruff check app simulator tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install ## Benchmarks, full runs (ratios measured side by side in one run; bench/README.md)
	$(BIN)/python bench/lifecycle.py

# A smoke run of every benchmark (SQLite and PostgreSQL on 127.0.0.1:5432), so none rots; fails if any fails.
bench-quick: install ## Every benchmark's --quick run (~1.5 min; CI)
	$(BIN)/python bench/lifecycle.py --quick
	$(BIN)/python bench/certificates.py --quick
	$(BIN)/python bench/portal_pages.py --quick --sqlite
	$(BIN)/python bench/portal_pages.py --quick
	$(BIN)/python bench/audit_contention.py --quick
	$(BIN)/python bench/dashboard.py --quick
	$(BIN)/python bench/inbox.py --quick
	$(BIN)/python bench/register_search.py --quick
	$(BIN)/python bench/outbox.py --quick
	$(BIN)/python bench/http_lifecycle.py --quick
	$(BIN)/python bench/archives.py --quick
	$(BIN)/python bench/institution_batch.py --quick

ci: ## What CI runs: the suite on SQLite and on PostgreSQL
	bash .ci/run

.PHONY: help admin-ui install setup run serve-database-url serve simulator federation-demo test test-fast lint bench bench-quick ci
