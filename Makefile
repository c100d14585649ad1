# Every target builds what it needs on a fresh machine: the venv and its packages.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The open data (boundaries, venues, police.uk) the demo and tests build on.
DATA ?= ../shared/data

.PHONY: demo test bench lint clean r-reference

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cardiff --project demo demo --data $(DATA)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

# R surveillance is the reference the rise detection is compared with (Debian packages).
bench: $(STAMP) r-reference
	$(BIN)/python -m benchmarks $(ONLY)

r-reference:
	@Rscript -e 'library(surveillance)' >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq r-base-core r-cran-surveillance)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) demo .pytest_cache
