# The README's two set-up commands are `make demo` and `make test`; both install
# what they need into .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint typecheck pytest docs demo bench bench-quick soak mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check logout_middleware tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict logout_middleware benchmarks

pytest: $(STAMP)
	$(BIN)/python -X dev -m pytest

test: lint typecheck pytest docs

# The documentation site (Sphinx), warnings as errors; tests/integration/test_docs.py runs its snippets.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The demo: a login form, a page that shows who is logged in and a logout button,
# served by gunicorn with 2 workers on the embedded SQLite store.
demo: $(STAMP)
	$(BIN)/gunicorn --config examples/gunicorn.conf.py --bind 127.0.0.1:8000 \
		--workers 2 --chdir examples demo:app

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

soak: $(STAMP)
	LOGOUT_MIDDLEWARE_SOAK=1 $(BIN)/python -X dev -m pytest -m soak --timeout=0 tests

# Mutation testing of the security modules against the fast, server-free tests (mutmut;
# configured in pyproject.toml [tool.mutmut]). Not part of `make test` or CI: about 7
# minutes on 2 cores. Then the killed share of behaviour-changing mutants, per module;
# `$(BIN)/python tests/mutation_report.py --list` shows each survivor with its diff.
MUTATE_JOBS ?= 2
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children $(MUTATE_JOBS) > /dev/null
	$(BIN)/python tests/mutation_report.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts mutants
