"""Evaluate a finished run: held-out loss under each condition, task scores, sampling speed.

Writes `eval.json` in the run directory and fills `summary.json`'s `eval.math_em`/`eval.code_pass1`
(and the other task scores), each file replaced atomically.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import jax
import ml_collections
from etils import epath
from jax.sharding import NamedSharding

from ixt_jax import feedback, rundir
from ixt_jax.data import corpus as corpus_lib
from ixt_jax.evaluate.run_dir import LoadedRun, load_corpus, load_run
from ixt_jax.evaluate.sampling import Sampler
from ixt_jax.evaluate.speed import decode_speed
from ixt_jax.evaluate.tasks import TaskSettings, make_task_evaluator
from ixt_jax.parallel.rules import logical_to_mesh
from ixt_jax.parallel.sharding import use_mesh
from ixt_jax.train import heldout
from ixt_jax.train.heldout import eval_condition

KEPT_KEYS = ("lm_eval",)  # written by lm_eval_run; a new evaluation of the built-in tasks keeps them
SPEED_BATCHES = (1, 8)
_SAMPLES_KEPT = 8  # completions per task score written to eval.json, for reading


def run_positive_critique(c: ml_collections.ConfigDict) -> Callable[[str], str]:
  """The critique a run is sampled with: its configured text, else the built-in critics' approval."""
  text = c.train.get("positive_critique", "")
  return (lambda _: text) if text else feedback.positive_critique


def heldout_losses(run: LoadedRun, positive_critique: Callable[[str], str],
                   corpus: corpus_lib.Corpus) -> dict[str, Any]:
  """`heldout.evaluate_sets` over the sets the training stage reports (heldout.EVAL_SETS)."""
  sets = heldout.make_eval_sets(run.config, run.vocab, positive_critique, corpus)
  sharding = NamedSharding(run.mesh, logical_to_mesh(("batch", "length")))
  with use_mesh(run.mesh):
    return heldout.evaluate_sets(heldout.make_eval_step(run.graphdef), run.params, sets,
                                 lambda batch: heldout.share_to_device(batch, sharding))


def evaluate_run(run_dir: epath.PathLike, settings: TaskSettings = TaskSettings(),
                 speed_new_tokens: int = 128) -> dict[str, Any]:
  """Evaluates the latest checkpoint of `run_dir`; returns what it writes to eval.json."""
  start = time.time()
  run = load_run(run_dir)
  c = run.config
  positive_critique = run_positive_critique(c)
  corpus = load_corpus(run)
  losses = heldout_losses(run, positive_critique, corpus)
  report = make_task_evaluator(c, run.vocab, run.graphdef, run.mesh, positive_critique, corpus=corpus,
                               settings=settings).run(run.params)
  sampler = Sampler(run.graphdef, run.vocab, run.mesh)
  speed = {f"batch_{b}": decode_speed(sampler, run.params, b, new_tokens=speed_new_tokens) for b in SPEED_BATCHES}
  result = {
      "run_dir": str(run.path), "step": run.step, "condition": eval_condition(c),
      "heldout": losses,
      "tasks": report.scores,
      "task_settings": dataclasses.asdict(settings),
      "task_samples": {name: samples[:_SAMPLES_KEPT] for name, samples in report.samples.items()},
      "task_generation": {"tokens": report.generated_tokens, "seconds": report.generation_seconds,
                          "tokens_per_s": report.generated_tokens / max(report.generation_seconds, 1e-9)},
      "sampling_speed": speed,
      "wall_seconds": time.time() - start,
  }
  if jax.process_index() == 0:
    rundir.update_json(rundir.path(run.path, rundir.EVAL),
                       lambda old: {**result, **{k: old[k] for k in KEPT_KEYS if k in old}})
    rundir.update_summary_eval(run.path, report.scores)
  return result
