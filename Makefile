# Every target creates .venv when missing and installs the project into it first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
export EPATH_USE_TF ?= false

.PHONY: install test test-slow test-transformers test-lm-eval quickstart study study-v2 benchmarks clean

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

# Export/import checked in the real `transformers` (+ a CPU torch: ~2.5 min and ~1.2 GB to install).
test-transformers: $(STAMP)
	$(PY) -m pip install --quiet -e ".[transformers]"
	$(PY) -m pytest -n 2 tests/test_hf_export.py

# lm-eval-harness against the served model (+ lm-eval without torch: ~30 s and ~230 MB to install).
test-lm-eval: $(STAMP)
	$(PY) -m pip install --quiet -e ".[lm_eval]"
	$(PY) -m pytest -n 2 -m lm_eval tests

quickstart: $(STAMP)
	$(PY) -m experiments.quickstart --workdir=runs/quickstart

# The shipped CPU study (~2 h on 2 cores); resumable: run it again after a stop. In the background:
# nohup make study > runs/cpu_study.log 2>&1 &
study: $(STAMP)
	$(PY) -m experiments.study --config=configs/sweeps/cpu_study.py --workdir=runs/cpu_study \
	    --results=experiments/results/cpu_study

# Study v2, does the model read its feedback (~1.5 h on 2 cores, 57 runs, 2 at a time); resumable. In the
# background: nohup make study-v2 > runs/study_v2.log 2>&1 &
study-v2: $(STAMP)
	$(PY) -m experiments.study_v2 --config=configs/sweeps/study_v2.py --workdir=runs/study_v2 \
	    --results=experiments/results/study_v2

benchmarks: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) runs
