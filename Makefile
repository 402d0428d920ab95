# Every target creates .venv when missing and installs the project into it first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
export EPATH_USE_TF ?= false

INTEROP_STAMP := $(VENV)/.interop

.PHONY: install test test-slow test-interop quickstart study benchmarks clean

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[seqio,test,tracking]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow" --durations=15 tests

test-slow: $(STAMP)
	$(PY) -m pytest -n 2 tests

# lm-eval-harness against the served model (~30 s and ~230 MB more to install, no torch).
$(INTEROP_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[interop]"
	touch $(INTEROP_STAMP)

test-interop: $(INTEROP_STAMP)
	$(PY) -m pytest -n 2 -m interop tests

quickstart: $(STAMP)
	$(PY) -m experiments.quickstart --workdir=runs/quickstart

# The shipped CPU study (~2 h on 2 cores); resumable: run it again after a stop. In the background:
# nohup make study > runs/cpu_study.log 2>&1 &
study: $(STAMP)
	$(PY) -m experiments.study --config=configs/sweeps/cpu_study.py --workdir=runs/cpu_study \
	    --results=experiments/results/cpu_study

benchmarks: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) runs
