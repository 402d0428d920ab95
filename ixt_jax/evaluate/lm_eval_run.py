"""lm-eval-harness on a run: its `local-completions` model against the run served in this process.

The run is served on a free loopback port (ixt_jax.evaluate.openai_api, as vLLM serves it: lm-eval
tokenizes through the server's /tokenize and scores loglikelihood requests from echoed prompt
logprobs), conditioned on one named condition. Tasks are lm-eval task names, found among its own
and the YAML files under `include_path` (configs/lm_eval: tasks read from local files, so nothing
downloads). Scores go to eval.json's and summary.json's `lm_eval.<condition>.<task>.<metric>`.
Needs `pip install -e ".[lm_eval]"` (lm-eval without torch).
"""
from __future__ import annotations

import importlib.metadata
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import jax
from etils import epath

from ixt_jax import rundir
from ixt_jax.errors import UserError
from ixt_jax.evaluate.openai_api import CompletionService, Conditioning, make_server, resolve_condition
from ixt_jax.evaluate.run_dir import load_run
from ixt_jax.evaluate.run_eval import run_positive_critique

DEFAULT_INCLUDE = "configs/lm_eval"


class MissingPackageError(UserError, ImportError):
  """An optional package the asked-for evaluation needs is not installed."""


def _import_lm_eval():
  try:
    import lm_eval  # pylint: disable=g-import-not-at-top
    from lm_eval.tasks import TaskManager  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise MissingPackageError('lm-eval is not installed: pip install -e ".[lm_eval]" (or make test-lm-eval)') from None
  return lm_eval, TaskManager


def _scores(task_results: dict[str, Any]) -> dict[str, float]:
  """lm-eval's metrics of one task, `acc,none` written `acc` (the default filter), NaN as None."""
  scores = {}
  for key, value in task_results.items():
    if isinstance(value, (int, float)) and not isinstance(value, bool):
      scores[key.removesuffix(",none")] = float(value) if math.isfinite(value) else None
  return scores


def evaluate_lm_eval(run_dir: epath.PathLike, tasks: Sequence[str], include_path: str = DEFAULT_INCLUDE,
                     condition: str = "auto", domain: str = "text", limit: int | None = None,
                     num_concurrent: int = 8) -> dict[str, Any]:
  """Runs lm-eval `tasks` on the latest checkpoint of `run_dir` under `condition`; returns what it records.

  Args:
    condition: auto (the run's method), none, positive or negative: the critique every request is
      conditioned on (for `domain`); the scores are recorded under its name.
    limit: documents per task (None: all).
    num_concurrent: requests lm-eval keeps in flight (the server decodes them together).
  """
  lm_eval, task_manager = _import_lm_eval()
  start = time.time()
  run = load_run(run_dir)
  name = resolve_condition(condition, run.config)
  service = CompletionService(run, run.path.name, Conditioning(name, None, domain), run_positive_critique(run.config),
                              max_batch=num_concurrent)
  server = make_server("127.0.0.1", 0, service)
  threading.Thread(target=server.serve_forever, daemon=True).start()
  try:
    results = lm_eval.simple_evaluate(
        model="local-completions",
        model_args={"base_url": f"http://127.0.0.1:{server.server_address[1]}/v1/completions",
                    "model": run.path.name, "tokenizer_backend": "remote", "tokenized_requests": True,
                    "num_concurrent": num_concurrent, "max_retries": 1, "max_length": run.config.data.seq_len},
        tasks=list(tasks), task_manager=task_manager(include_path=str(include_path)), limit=limit,
        log_samples=False)
  finally:
    server.shutdown()
    server.server_close()
  scores = {task: _scores(r) for task, r in results["results"].items()}
  record = {"tasks": scores, "step": run.step, "limit": limit, "n_samples": results.get("n-samples", {}),
            "lm_eval_version": importlib.metadata.version("lm_eval"), "wall_seconds": time.time() - start}
  if jax.process_index() == 0:
    rundir.update_json(rundir.path(run.path, rundir.EVAL),
                       lambda old: {**old, "lm_eval": {**old.get("lm_eval", {}), name: record}})
    rundir.update_json(rundir.path(run.path, rundir.SUMMARY), lambda summary: {**summary, "eval": {
        **summary.get("eval", {}), "lm_eval": {**summary.get("eval", {}).get("lm_eval", {}), name: scores}}})
  return {"condition": name, **record}
