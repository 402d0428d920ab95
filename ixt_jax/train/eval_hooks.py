"""The two evaluation hooks of the train loop, each called every step and acting when due.

`HeldoutEval`: held-out loss per domain under each condition (heldout.EVAL_SETS), every
`train.eval_every` steps and at the end. `TaskEval`: task scores (ixt_jax.evaluate.tasks), every
`eval.every` steps and at the end. Each writes its metrics line and prints one line; the loop hands
each the parameters and nothing else.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ixt_jax.train import heldout
from ixt_jax.train.metrics import MetricsWriter


class HeldoutEval:

  def __init__(self, eval_step, sets: dict[str, dict[str, list[dict]]], to_device: Callable[[dict], dict],
               every: int, total_steps: int, writer: MetricsWriter, printing: bool):
    self.eval_step, self.sets, self.to_device = eval_step, sets, to_device
    self.every, self.total_steps = every, total_steps
    self.writer, self.printing = writer, printing
    self.results: dict[str, Any] | None = None  # the latest evaluation

  def due(self, step: int) -> bool:
    return step % self.every == 0 or step == self.total_steps

  def evaluate(self, params) -> dict[str, Any]:
    """{set name: {domain: figures}} (heldout.evaluate_sets), kept as `results`."""
    self.results = heldout.evaluate_sets(self.eval_step, params, self.sets, self.to_device)
    return self.results

  def __call__(self, step: int, params) -> float:
    """Evaluates, logs and keeps the results; returns the clean held-out loss (what "best" means)."""
    self.evaluate(params)
    self.writer.write(step, {"heldout": self.results})
    if self.printing:
      print(f"step {step:>6}/{self.total_steps} | held-out loss " + " | ".join(
          f"{name} {heldout.format_loss(r['all_domains']['loss'])}" for name, r in self.results.items()), flush=True)
    return self.results["clean"]["all_domains"]["loss"]


class TaskEval:

  def __init__(self, evaluator: Callable[[Any], dict[str, float | None]], every: int, total_steps: int,
               writer: MetricsWriter, printing: bool):
    self.evaluator, self.every, self.total_steps = evaluator, every, total_steps
    self.writer, self.printing = writer, printing
    self.scores: dict[str, float | None] | None = None  # the latest scores

  def due(self, step: int) -> bool:
    return step == self.total_steps or bool(self.every and step % self.every == 0)

  def __call__(self, step: int, params) -> dict[str, float | None]:
    self.scores = self.evaluator(params)
    scored = {k: v for k, v in self.scores.items() if v is not None}
    self.writer.write(step, {"tasks": scored})
    if self.printing:
      print(f"step {step:>6}/{self.total_steps} | tasks " + " | ".join(f"{k} {v:.3f}" for k, v in scored.items()),
            flush=True)
    return self.scores
