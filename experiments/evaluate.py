"""Evaluate a finished run: python -m experiments.evaluate --run_dir=DIR [--tasks=math,code,humaneval]

Held-out loss under every condition, math exact match, code pass@1 (and HumanEval when asked),
decode tokens/s; writes DIR/eval.json and the task scores into DIR/summary.json's "eval".
"""
import json
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import app, flags  # pylint: disable=g-import-not-at-top

from ixt_jax.evaluate.run_eval import evaluate_run
from ixt_jax.evaluate.tasks import TASKS, TaskSettings
from experiments import cli

_RUN_DIR = flags.DEFINE_string("run_dir", None, "run directory written by experiments.launch", required=True)
_DEFAULT = TaskSettings()  # the run config's `eval` defaults
_TASKS = flags.DEFINE_list("tasks", list(_DEFAULT.tasks), f"tasks to score, some of {list(TASKS)}")
_MAX_PROBLEMS = flags.DEFINE_integer("max_problems", _DEFAULT.max_problems, "problems per task")
_MAX_NEW_TOKENS = flags.DEFINE_integer("max_new_tokens", _DEFAULT.max_new_tokens, "token budget per generated solution")
_TIMEOUT = flags.DEFINE_float("timeout_s", _DEFAULT.timeout_s, "sandbox time limit per program")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  settings = TaskSettings(tasks=tuple(_TASKS.value), max_problems=_MAX_PROBLEMS.value,
                          max_new_tokens=_MAX_NEW_TOKENS.value, timeout_s=_TIMEOUT.value)
  result = evaluate_run(_RUN_DIR.value, settings)
  losses = {name: None if r["all_domains"]["loss"] is None else round(r["all_domains"]["loss"], 4)
            for name, r in result["heldout"].items()}  # None: an empty set (no flawless held-out document)
  speed = {name: round(s["tokens_per_s"], 1) for name, s in result["sampling_speed"].items()}
  print(json.dumps({"step": result["step"], "heldout_loss": losses, "tasks": result["tasks"],
                    "decode_tokens_per_s": speed}, indent=2))


if __name__ == "__main__":
  cli.run(main)
