# Deep Learning with Python, chapter 5, on TensorFlow 2.21 / Keras 3.
# `make lab` to study, `make test` to check everything. `make help` lists the targets.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The supported Python versions: stated once, as requires-python in pyproject.toml.
PYTHON_RANGE := $(shell sed -n 's/^requires-python *= *"\(.*\)"/\1/p' pyproject.toml)
PIP_VERSION := 26.3
# The lock files are made for this Python and platform (see CONTRIBUTING.md, "Updating the lock files").
LOCK_TARGET := --python-version 3.11.0 --python-platform x86_64-unknown-linux-gnu
PROFILE ?= $(or $(COURSE_PROFILE),full)
# Empty SOURCE: `make data` and `make lab` keep the source of the split already prepared (synthetic when
# there is none); SOURCE=... switches. quote: one shell word whatever a value holds (&, spaces, quotes).
SOURCE ?=
quote = '$(subst ','\'',$(1))'
LAB_ARGS ?=
# Tests never touch a learner's data/ or models/.
TEST_ENV := COURSE_PROFILE=quick COURSE_LANG=en COURSE_DATA_DIR=$(CURDIR)/build/test-data COURSE_MODELS_DIR=$(CURDIR)/build/test-models
export TF_ENABLE_ONEDNN_OPTS ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

ifeq ($(shell id -u),0)
ROOT_FLAG := --allow-root
endif

.PHONY: help setup lock lint data lab ko test test-unit test-notebooks test-solutions test-browser browser-deps run status clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

$(STAMP): requirements-dev.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python $(PYTHON_RANGE) or pass PYTHON=..."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "setup: could not create $(VENV) (on Debian: apt-get install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --no-deps -e . || { echo "setup: installing the helpers package failed (see above); the course needs Python $(PYTHON_RANGE): rm -rf $(VENV), then make setup PYTHON=<a Python in that range>"; exit 1; }
	$(PY) -m pip install --quiet -r requirements-dev.lock || { echo "setup: pip install failed (see above); check your network or proxy, then run make setup again"; exit 1; }
	@touch $(STAMP)
	@echo "setup: $(VENV) is ready"

setup: $(STAMP)  ## Create .venv and install requirements-dev.lock, every package pinned (does nothing when up to date)

lock: $(STAMP)  ## Remake the lock files from requirements*.txt, keeping every pin that still fits (LOCK_ARGS=--upgrade-package NAME)
	$(VENV)/bin/uv pip compile --quiet $(LOCK_TARGET) --annotation-style line requirements.txt -o requirements.lock $(LOCK_ARGS)
	$(VENV)/bin/uv pip compile --quiet $(LOCK_TARGET) --annotation-style line requirements-dev.txt -c requirements.lock \
	  -o requirements-dev.lock $(LOCK_ARGS)

lint: $(STAMP)  ## ruff on the Python files and the notebooks' code cells (settings in pyproject.toml)
	$(VENV)/bin/ruff check .

DATA_ARGS = $(strip $(if $(SOURCE),--source $(call quote,$(SOURCE))) $(if $(ARCHIVE),--archive $(call quote,$(ARCHIVE))) \
  $(if $(URL),--url $(call quote,$(URL))) $(if $(SHA256),--sha256 $(call quote,$(SHA256))))

data: $(STAMP)  ## Prepare the data set for PROFILE (quick|full) from SOURCE (default: the current one, else synthetic)
	COURSE_PROFILE=$(PROFILE) $(PY) -m helpers data $(DATA_ARGS)

status: $(STAMP)  ## Show profile, data source, split counts and trained models
	COURSE_PROFILE=$(PROFILE) $(PY) -m helpers status

# COURSE_LANG=ko: the Korean edition (notebooks/ko/); not LANG, which is the system's locale.
COURSE_LANG ?= en
LAB_DIR := $(if $(filter ko,$(COURSE_LANG)),notebooks/ko/,notebooks/)

.PHONY: lang-check
lang-check:
	@case "$(COURSE_LANG)" in en|ko) ;; *) echo "lab: COURSE_LANG=$(COURSE_LANG) is not a course language: use COURSE_LANG=en or COURSE_LANG=ko"; exit 2;; esac

lab: lang-check setup data  ## Install, prepare data and open JupyterLab on notebooks/ (COURSE_LANG=ko: notebooks/ko/; LAB_ARGS)
	COURSE_PROFILE=$(PROFILE) COURSE_LANG=$(COURSE_LANG) $(VENV)/bin/jupyter lab $(LAB_DIR) $(ROOT_FLAG) $(LAB_ARGS)

ko: $(STAMP)  ## Build notebooks/ko/ from the English notebooks and i18n/ko/*.po (tools/korean.py)
	$(PY) tools/korean.py update
	$(PY) tools/korean.py build

CHROMIUM ?= /usr/bin/chromium

# Each notebook runs once: the course notebooks in JupyterLab (checked there as nbval checks them), the
# solutions notebooks under nbval. Without Chromium every notebook runs under nbval instead.
# $(call timed,TARGET): make TARGET, then say how long it took.
timed = start=$$(date +%s) && $(MAKE) --no-print-directory $(1) && echo "make test: $(1) passed in $$(( $$(date +%s) - start )) s"

test: $(STAMP)  ## Lint, unit tests, every notebook once: in a real browser (nbval's checks), solutions under nbval
	+@$(call timed,lint)
	+@$(call timed,test-unit)
	+@if [ -x "$(CHROMIUM)" ]; then \
	  $(call timed,test-solutions) && $(call timed,test-browser); \
	else \
	  echo "test: no Chromium at $(CHROMIUM) (sudo make browser-deps): every notebook under nbval, no browser tests"; \
	  $(call timed,test-notebooks); \
	fi

# Unit tests on every core (at most 4: each worker imports TensorFlow); an idle worker takes tests from a busy one.
test-unit: $(STAMP)  ## Unit tests and the notebook hygiene check, on every core
	$(TEST_ENV) $(PY) -m pytest -q -n auto --maxprocesses 4 --dist worksteal -m "not browser and not real" tests

# The Korean notebooks run the English code (tests/test_korean.py checks it): one of them stands for all.
test-notebooks: $(STAMP)  ## Every notebook under nbval (quick profile, synthetic data)
	rm -rf build/test-models
	$(TEST_ENV) $(PY) -m helpers data --source synthetic
	$(TEST_ENV) $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=900 notebooks --ignore-glob="notebooks/ko/0[013-8]_*" --ignore=notebooks/ko/solutions

# Each solutions notebook stands alone (no model or file from another): they run side by side.
test-solutions: $(STAMP)  ## The solutions notebooks under nbval (what make test runs under nbval with a browser)
	rm -rf build/test-models
	$(TEST_ENV) $(PY) -m helpers data --source synthetic
	$(TEST_ENV) $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=900 --numprocesses=auto --maxprocesses=4 --dist=loadfile notebooks/solutions

# Chromium, and a font with Hangul so that the Korean notebook's screenshots show it (also where Chromium is there).
browser-deps:  ## Install Chromium and a CJK font for the browser tests with apt-get (skips what is installed)
	@missing="$$( [ -x "$(CHROMIUM)" ] || echo chromium; fc-list :lang=ko 2>/dev/null | grep -q . || echo fonts-noto-cjk)"; \
	if [ -z "$$missing" ]; then echo "browser-deps: $(CHROMIUM) and a Korean font are installed"; \
	elif [ "$$(id -u)" != 0 ]; then echo "browser-deps: installing $$missing needs root: sudo make browser-deps"; exit 1; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

test-browser: $(STAMP)  ## JupyterLab in headless Chromium: run and check every notebook, drag the widgets (browser-deps)
	$(TEST_ENV) CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q --durations=5 -m browser tests/browser

run: $(STAMP)  ## Execute every notebook headless into build/executed/ with PROFILE
	mkdir -p build/executed
	COURSE_PROFILE=$(PROFILE) $(VENV)/bin/jupyter nbconvert --to notebook --execute \
	  --ExecutePreprocessor.timeout=-1 --output-dir build/executed notebooks/*.ipynb

# Real photos: a quick-profile split made through the real archive path, then notebooks 03-06 on it.
REAL_ENV := COURSE_PROFILE=quick COURSE_DATA_DIR=$(CURDIR)/build/real-data COURSE_MODELS_DIR=$(CURDIR)/build/real-models
REAL_NOTEBOOKS = $(wildcard notebooks/03_*.ipynb notebooks/04_*.ipynb notebooks/05_*.ipynb notebooks/06_*.ipynb)
.PHONY: test-real
test-real: $(STAMP)  ## Notebooks 03-06 on real photos: ARCHIVE=Kaggle's train.zip or dogs-vs-cats.zip
	@test -n "$(ARCHIVE)" || { echo "test-real: pass ARCHIVE=path/to/train.zip (Kaggle's train.zip or dogs-vs-cats.zip)"; exit 1; }
	$(REAL_ENV) $(PY) -m helpers data --source kaggle --archive $(call quote,$(ARCHIVE))
	$(REAL_ENV) COURSE_REAL_ARCHIVE="$$(realpath -- $(call quote,$(ARCHIVE)))" $(PY) -m pytest -q -m real tests/test_sources.py
	$(if $(REAL_NOTEBOOKS),$(REAL_ENV) $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	  --nbval-sanitize-with tests/nbval_real.cfg $(REAL_NOTEBOOKS),echo "test-real: no notebooks 03-06 yet")

.PHONY: bench
bench: $(STAMP)  ## Speed against the machine's matmul rate: table + benchmarks/results.json (BENCH_ARGS=--quick: minutes)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:  ## Remove build output and caches (keeps data/, models/ and .venv/)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
