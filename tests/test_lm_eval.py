"""lm-eval-harness (the real `lm_eval`, `pip install -e ".[lm_eval]"`) against a tiny served run.

Its `local-completions` model scores the shipped local tasks (configs/lm_eval): a loglikelihood task
through echoed prompt logprobs and a generation task, once through `experiments.evaluate` (the run
served in-process, scores recorded under the condition's name), once through lm-eval's own command
line against `experiments.serve`. Run with `make test-lm-eval`.
"""
import json
import math
import os
import subprocess
import sys

import pytest

from serve_utils import ROOT, served, tiny_run
from xla_env import xla_flags

pytest.importorskip("lm_eval")
pytestmark = [pytest.mark.slow, pytest.mark.lm_eval]

TASKS = "ixt_arith_choice,ixt_arith_answer"
_OFFLINE = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}  # nothing may download


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
  root = tmp_path_factory.mktemp("lm_eval")
  tiny_run(root, "A flawless document.")
  return root / "run"


def _run(args):
  env = dict(os.environ, XLA_FLAGS=xla_flags(2), **_OFFLINE)
  return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_evaluate_records_lm_eval_scores_under_the_condition(run_dir):
  for condition in ("none", "negative"):
    done = _run([sys.executable, "-m", "experiments.evaluate", f"--run_dir={run_dir}", "--builtin=false",
                 f"--lm_eval_tasks={TASKS}", f"--lm_eval_condition={condition}", "--lm_eval_limit=6"])
    assert done.returncode == 0, done.stderr[-3000:]
  evaluation = json.loads((run_dir / "eval.json").read_text())["lm_eval"]
  summary = json.loads((run_dir / "summary.json").read_text())["eval"]["lm_eval"]
  assert set(evaluation) == set(summary) == {"none", "negative"}  # the second run kept the first's scores
  for condition in ("none", "negative"):
    scores = summary[condition]
    assert 0 <= scores["ixt_arith_choice"]["acc"] <= 1 and math.isfinite(scores["ixt_arith_choice"]["acc_stderr"])
    assert 0 <= scores["ixt_arith_answer"]["exact_match"] <= 1
    assert evaluation[condition]["n_samples"]["ixt_arith_choice"]["effective"] == 6


def test_lm_eval_command_line_scores_a_loglikelihood_task_against_experiments_serve(run_dir, tmp_path):
  with served(run_dir, "--condition=none") as base_url:
    model_args = (f"base_url={base_url}/completions,model=run,tokenizer_backend=remote,tokenized_requests=True,"
                  "max_length=128,num_concurrent=4,max_retries=1")
    done = _run([os.path.join(os.path.dirname(sys.executable), "lm-eval"), "run", "--model", "local-completions",
                 "--model_args", model_args, "--tasks", "ixt_arith_choice", "--include_path", "configs/lm_eval",
                 "--limit", "4", "--output_path", str(tmp_path)])
  assert done.returncode == 0, done.stderr[-3000:]
  (results_file,) = tmp_path.rglob("results_*.json")
  acc = json.loads(results_file.read_text())["results"]["ixt_arith_choice"]["acc,none"]
  assert math.isfinite(acc) and 0 <= acc <= 1
