"""Evaluate runs.

One run:   python -m experiments.evaluate --run_dir=DIR [--tasks=math,code,humaneval]
  Held-out loss under every condition, math exact match, code pass@1 (and HumanEval when asked),
  decode tokens/s; writes DIR/eval.json and the task scores into DIR/summary.json's "eval".
  With --lm_eval_tasks, lm-eval-harness tasks too (pip install -e ".[lm_eval]"), scored against the
  run served in-process under --lm_eval_condition, recorded as eval.lm_eval.<condition> in both files:
    python -m experiments.evaluate --run_dir=DIR --builtin=false \
        --lm_eval_tasks=ixt_arith_choice,ixt_arith_answer --lm_eval_condition=positive

A set of runs (information use): python -m experiments.evaluate --runs=DIR1,DIR2,... [--out=DIR]
  Samples every run under the conditions it trained with on the same fresh prompts and keys
  (ixt_jax.evaluate.steer; skipped where DIR/steer.json exists), then prints the flaw and
  well-formed rates and the primary endpoints with bootstrap intervals (ixt_jax.evaluate.endpoints);
  --out gets endpoints.json. A run directory pattern may use * (e.g. --runs='runs/pilot/*').
"""
import glob
import json
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import app, flags  # pylint: disable=g-import-not-at-top

from ixt_jax.errors import ConfigError
from ixt_jax.evaluate.lm_eval_run import DEFAULT_INCLUDE, evaluate_lm_eval
from ixt_jax.evaluate.openai_api import CONDITIONS
from ixt_jax.evaluate.run_eval import evaluate_run
from ixt_jax.evaluate.tasks import TASKS, TaskSettings
from experiments import cli

_RUN_DIR = flags.DEFINE_string("run_dir", None, "run directory written by experiments.launch")
_DEFAULT = TaskSettings()  # the run config's `eval` defaults
_BUILTIN = flags.DEFINE_bool("builtin", True, "held-out loss, the built-in --tasks and sampling speed")
_TASKS = flags.DEFINE_list("tasks", list(_DEFAULT.tasks), f"tasks to score, some of {list(TASKS)}")
_MAX_PROBLEMS = flags.DEFINE_integer("max_problems", _DEFAULT.max_problems, "problems per task")
_MAX_NEW_TOKENS = flags.DEFINE_integer("max_new_tokens", _DEFAULT.max_new_tokens, "token budget per generated solution")
_TIMEOUT = flags.DEFINE_float("timeout_s", _DEFAULT.timeout_s, "sandbox time limit per program")
_LM_EVAL_TASKS = flags.DEFINE_list("lm_eval_tasks", [], "lm-eval-harness task names (none: lm-eval does not run)")
_LM_EVAL_INCLUDE = flags.DEFINE_string("lm_eval_include", DEFAULT_INCLUDE, "folder of local lm-eval task YAMLs")
_LM_EVAL_CONDITION = flags.DEFINE_enum("lm_eval_condition", "auto", ("auto",) + CONDITIONS,
                                       "conditioning of every lm-eval request; auto: the run's method")
_LM_EVAL_DOMAIN = flags.DEFINE_string("lm_eval_domain", "text", "domain of the positive / negative critique")
_LM_EVAL_LIMIT = flags.DEFINE_integer("lm_eval_limit", None, "documents per lm-eval task (default: all)")
_RUNS = flags.DEFINE_list("runs", [], "run directories (or patterns) whose information use to measure")
_DOMAINS = flags.DEFINE_list("domains", ["math", "code", "text"], "steer domains")
_PROMPTS = flags.DEFINE_integer("prompts", 32, "fresh steer prompts per domain")
_SAMPLES = flags.DEFINE_integer("samples", 4, "samples per prompt and condition (temperature 1)")
_STEER_TOKENS = flags.DEFINE_integer("steer_tokens", 128, "token budget per steer sample")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "bootstrap draws of the endpoints' intervals")
_OUT = flags.DEFINE_string("out", "", "where endpoints.json goes ('' = not written)")


def evaluate_set() -> dict:
  from ixt_jax.evaluate import steer_set  # pylint: disable=g-import-not-at-top
  from ixt_jax.evaluate.steer import SteerSettings  # pylint: disable=g-import-not-at-top
  dirs = sorted({d for pattern in _RUNS.value for d in (glob.glob(pattern) or [pattern])})
  settings = SteerSettings(domains=tuple(_DOMAINS.value), prompts=_PROMPTS.value, samples=_SAMPLES.value,
                           max_new_tokens=_STEER_TOKENS.value)
  result = steer_set.measure(dirs, settings, bootstrap=_BOOTSTRAP.value, out=_OUT.value or None)
  print(steer_set.format_report(result))
  return result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  if bool(_RUN_DIR.value) == bool(_RUNS.value):
    raise ConfigError("pass exactly one of --run_dir (one run) and --runs (a set of runs)")
  if _RUNS.value:
    evaluate_set()
    return
  if not _BUILTIN.value and not _LM_EVAL_TASKS.value:
    raise ConfigError("--builtin=false needs --lm_eval_tasks: there would be nothing to evaluate")
  report = {}
  if _BUILTIN.value:
    settings = TaskSettings(tasks=tuple(_TASKS.value), max_problems=_MAX_PROBLEMS.value,
                            max_new_tokens=_MAX_NEW_TOKENS.value, timeout_s=_TIMEOUT.value)
    result = evaluate_run(_RUN_DIR.value, settings)
    losses = {name: None if r["all_domains"]["loss"] is None else round(r["all_domains"]["loss"], 4)
              for name, r in result["heldout"].items()}  # None: an empty set (no flawless held-out document)
    speed = {name: round(s["tokens_per_s"], 1) for name, s in result["sampling_speed"].items()}
    report.update(step=result["step"], heldout_loss=losses, tasks=result["tasks"], decode_tokens_per_s=speed)
  if _LM_EVAL_TASKS.value:
    result = evaluate_lm_eval(_RUN_DIR.value, _LM_EVAL_TASKS.value, _LM_EVAL_INCLUDE.value,
                              _LM_EVAL_CONDITION.value, _LM_EVAL_DOMAIN.value, _LM_EVAL_LIMIT.value)
    report["lm_eval"] = {result["condition"]: result["tasks"]}
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  cli.run(main)
