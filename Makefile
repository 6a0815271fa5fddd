# omniplug developer and user entry points.
#   make demo       set up everything on a fresh machine and run the demo
#   make test       set up everything and run all tests (Rust and Python)
#   make bench      release build, benchmarks with peer comparisons -> benchmarks/results/
#   make build      release build of the Rust core into .venv (what tests and benchmarks use)
#   make build-dev  debug build (fast to compile, slow to run; warns at import)
#   make lint       cargo clippy + ruff + stub check

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
MATURIN := $(VENV)/bin/maturin
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
TEST_PLUGIN_DIRS := $(sort $(dir $(wildcard tests/plugins/*/pyproject.toml)))

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help venv build build-dev install browser demo test test-rust test-python bench lint clean

help:
	@sed -n '2,8p' Makefile

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip
	$(PIP) install "maturin>=1.7,<2" "setuptools>=68" wheel
	touch $@

venv: $(VENV)/.created

## Release build of the core, the framework (editable) with its test extras, and every plugin.
build: venv
	$(MATURIN) develop --release --extras test -q
	$(MAKE) --no-print-directory install-plugins

build-dev: venv
	$(MATURIN) develop --extras test -q
	$(MAKE) --no-print-directory install-plugins

install-plugins:
	@for d in $(PLUGIN_DIRS) $(TEST_PLUGIN_DIRS); do \
		echo "installing plugin $$d"; \
		$(PIP) install --no-build-isolation -e "$$d" || exit 1; \
	done

install: build

## The headless browser the report test drives (Debian's chromium and its driver, CJK fonts).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	 { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends \
	   chromium chromium-driver fonts-noto-cjk; }

test: build browser test-rust test-python

test-rust:
	cargo test --manifest-path core_rs/Cargo.toml --quiet

test-python:
	$(PY) -m pytest -q

demo: build
	$(VENV)/bin/omniplug demo

bench: build
	$(PIP) install "igraph>=0.11" "scikit-image>=0.22" "imagehash>=4.3" "pdqhash>=0.2" "faiss-cpu>=1.8" \
		"ChannelAttribution>=2.2" matplotlib
	mkdir -p benchmarks/results
	$(PY) -m pytest benchmarks -q --benchmark-only --benchmark-autosave \
		--benchmark-storage=benchmarks/results

lint: venv
	cargo clippy --manifest-path core_rs/Cargo.toml --all-targets -- -D warnings
	cargo clippy --manifest-path core_rs/Cargo.toml --features python -- -D warnings
	$(PIP) install ruff mypy
	$(VENV)/bin/ruff check omniplug plugins tests benchmarks
	$(PY) -m mypy.stubtest omniplug._core --allowlist .stubtest-allowlist

clean:
	rm -rf $(VENV) core_rs/target omniplug/_core*.so
