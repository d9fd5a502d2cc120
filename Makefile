# `make run` and `make test` set everything up themselves (a .venv with Python >= 3.12).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint dashboard calibrate bench golden clean

$(STAMP): pyproject.toml
	@PYBIN=$$(scripts/find-python) || exit 1; \
	  [ -x $(PY) ] || $$PYBIN -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,dev,viz]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/datalabour dashboard

run-cli: $(STAMP)
	$(VENV)/bin/datalabour run scenarios/baseline.yaml --out results/baseline

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check sim dashboard tests benchmarks datalabour.py

calibrate: $(STAMP)
	$(VENV)/bin/datalabour calibrate scenarios/baseline.yaml --replicates 5 --out results/calibration

bench: $(STAMP)
	$(PY) -m benchmarks.scaling

# after a deliberate change of the model's results: rewrite tests/golden/results.json
golden: $(STAMP)
	$(PY) tests/test_golden.py

clean:
	rm -rf $(VENV) results .pytest_cache
