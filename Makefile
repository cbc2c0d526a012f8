# Two commands: `make demo` and `make test`. Both set up .venv first (once).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: setup demo test lint clean wheel bench

setup: $(STAMP)

# torch first: `torch==2.13.0` takes the local CPU wheel; the project is then
# installed against constraints.txt so every machine resolves the same versions.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(VENV)/bin/sentiment demo

test: setup
	$(VENV)/bin/pytest -q

# The project as a wheel, for Beam workers on Flink, Spark or Dataflow (--extra_packages).
wheel: setup
	rm -rf dist
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist .

# Scoring throughput against its peers (see bench/score.py).
bench: setup
	$(PY) -m bench.score

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .prefect warehouse dist build
