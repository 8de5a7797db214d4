# The two commands: `make demo` and `make test`. Each sets itself up from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --progress-bar off -c constraints.txt
DEMO_OUT ?= runs/demo
PYTEST_ARGS ?=

.PHONY: demo test lint bench-speed clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps make a second run skip the install; they are rebuilt when the dependencies change.
$(VENV)/.bench-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[bench]"
	touch $@

$(VENV)/.all-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) -e ".[all,dev]"
	touch $@ $(VENV)/.bench-installed

demo: $(VENV)/.bench-installed
	$(VENV)/bin/autocurriculum bench --suite quick --out $(DEMO_OUT) --overwrite

lint: $(VENV)/.all-installed
	$(VENV)/bin/ruff check src tests benchmarks examples

test: lint
	$(PY) -m pytest -n 2 --doctest-modules src tests $(PYTEST_ARGS)

# Speed figures for benchmarks/RESULTS.md (not part of `make test`: timings are not tests).
bench-speed: $(VENV)/.all-installed
	$(PY) benchmarks/bench_students.py
	$(PY) benchmarks/bench_runner.py
	$(PY) benchmarks/bench_gmm.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
