# The two commands: `make demo` and `make test`. Each sets itself up from nothing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --progress-bar off -c constraints.txt
DEMO_OUT ?= runs/demo
PYTEST_ARGS ?=

VERL_VENV ?= .venv-verl
# verl 0.7.1 (the last release with a curriculum-sampler hook) requires numpy<2, so it cannot
# share the main environment; pip would then pick a pyarrow that needs numpy 2.
VERL_PINS := "verl==0.7.1" "numpy<2" "pyarrow>=19,<22"
VERL_TESTS := src/autocurriculum/verl.py tests/test_torch_sampler_verl.py

.PHONY: demo test test-verl lint typecheck bench-speed clean

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

typecheck: $(VENV)/.all-installed
	$(VENV)/bin/mypy

test: lint typecheck test-verl
	$(PY) -m pytest -n 2 --doctest-modules src tests $(addprefix --ignore=,$(VERL_TESTS)) \
		$(PYTEST_ARGS)

$(VERL_VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VERL_VENV)
	$(VERL_VENV)/bin/python -m pip install --quiet --progress-bar off -c constraints.txt \
		$(VERL_PINS) datasets pytest -e .
	touch $@

test-verl: $(VERL_VENV)/.installed
	$(VERL_VENV)/bin/python -m pytest --doctest-modules $(VERL_TESTS) $(PYTEST_ARGS)

# Speed figures for benchmarks/RESULTS.md (not part of `make test`: timings are not tests).
bench-speed: $(VENV)/.all-installed
	$(PY) benchmarks/bench_students.py
	$(PY) benchmarks/bench_runner.py
	$(PY) benchmarks/bench_gmm.py

clean:
	rm -rf $(VENV) $(VERL_VENV) runs .pytest_cache .ruff_cache
