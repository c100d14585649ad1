# Every target builds what it needs on a fresh machine: the venv and its packages.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The open data (boundaries, venues, police.uk) the demo and tests build on.
DATA ?= ../shared/data

# The dashboard's browser libraries (Leaflet, Chart.js) come from the npm registry at build
# time, pinned by the lock file, and are served locally: no CDN.
VENDOR := src/cardiffmodel/web/static/vendor/.built

.PHONY: demo test bench lint clean r-reference system-packages serve

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(VENDOR): web/frontend/package.json web/frontend/package-lock.json web/frontend/build.mjs
	npm ci --prefix web/frontend --no-audit --no-fund --loglevel=error
	npm run build --prefix web/frontend --silent
	touch $(VENDOR)

# Browser tests drive Debian's Chromium (a browser is never downloaded by a test tool);
# the Spark engine tests need a Java runtime.
system-packages:
	@test -x /usr/bin/chromium && command -v java >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq chromium default-jre-headless)

demo: $(STAMP) $(VENDOR)
	$(BIN)/cardiff --project demo demo --data $(DATA)

serve: $(STAMP) $(VENDOR)
	test -f demo/cardiff.toml || $(MAKE) demo
	$(BIN)/cardiff --project demo serve

test: $(STAMP) $(VENDOR) system-packages
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

# R surveillance is the reference the rise detection is compared with (Debian packages).
bench: $(STAMP) $(VENDOR) r-reference
	$(BIN)/python -m benchmarks $(ONLY)

r-reference:
	@Rscript -e 'library(surveillance)' >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq r-base-core r-cran-surveillance)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) demo .pytest_cache web/frontend/node_modules src/cardiffmodel/web/static/vendor
