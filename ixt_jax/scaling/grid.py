"""The runs of a scaling sweep: sizes x token budgets and IsoFLOP compute budgets, per method and seed.

Pure arithmetic (no JAX, no trainer): the caller measures each size's training FLOPs per row token
and non-embedding parameters (experiments.sweep takes them from the trainer's own model config) and
this module turns budgets into whole steps:

  token budget D:    steps = round(D / (batch x seq_len))
  compute budget C:  D = C / FLOPs-per-token(N), then steps as above (an IsoFLOP profile per C)

Learning rate, batch and warmup come from one `Rules` per size, the same for every method, so
IXT, the baseline and any control at a grid point spend the same compute on the same document order.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ixt_jax.scaling import isoflop
from ixt_jax.scaling import parametric

# Labels become run names and directory names: keep them to characters a shell and a flag leave alone.
_LABEL = re.compile(r"^[A-Za-z0-9_.]+$")


@dataclasses.dataclass(frozen=True)
class Size:
  """One model size of the sweep, as the trainer will build it."""
  label: str
  flops_per_token: float  # training FLOPs per row token at the sweep's row length
  n_params: int  # non-embedding parameters: the N of the rules and of the fits


@dataclasses.dataclass(frozen=True)
class Rules:
  """Per-size hyperparameters, one rule for every method.

  lr = lr_reference * (N / n_reference) ** -lr_exponent
  batch = batch_reference * (N / n_reference) ** batch_exponent, rounded to a multiple of batch_multiple
  warmup = warmup_fraction of the run's steps (the schedule's decay scales with the steps by itself)
  """
  lr_reference: float
  lr_exponent: float
  batch_reference: int
  batch_exponent: float
  batch_multiple: int
  n_reference: float
  warmup_fraction: float

  def learning_rate(self, n: int) -> float:
    # 4 significant digits: the command lines and config.json show the rule's value, not float noise.
    return float(f"{self.lr_reference * (n / self.n_reference) ** -self.lr_exponent:.4g}")

  def batch_size(self, n: int) -> int:
    rows = self.batch_reference * (n / self.n_reference) ** self.batch_exponent
    return max(1, round(rows / self.batch_multiple)) * self.batch_multiple

  def warmup_steps(self, steps: int) -> int:
    return min(steps - 1, round(self.warmup_fraction * steps))


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run of the sweep."""
  name: str  # unique and deterministic: <method>-<size>-<point>-s<seed>
  method: str
  size: str
  point: str  # '<size>/<budget label>': the grid point, shared by its methods and seeds
  seed: int
  steps: int
  batch_size: int
  learning_rate: float
  warmup_steps: int
  tokens: int  # row tokens trained on (critiques and padding included)
  flops: float  # planned training FLOPs (what summary.json will report)
  n_params: int
  # summary.json's `budget`, by which scaling groups IsoFLOP profiles: C=<FLOPs>. None for a token budget:
  # a tag there would have scaling fit parabolas across sizes at equal tokens, not equal compute.
  budget: str | None


class _Point(NamedTuple):
  name: str  # '<size>/<budget label>'
  size: Size
  steps: int
  batch: int
  target: float  # the budget: tokens, or FLOPs on an IsoFLOP grid (tag set)
  tag: str | None


def compact(value: float) -> str:
  """3e+11 -> '3e11', 1.5e+13 -> '1.5e13', 500 -> '500': a budget as it appears in names."""
  mantissa, _, exponent = f"{value:.3g}".partition("e")
  return mantissa + (f"e{int(exponent)}" if exponent else "")


def _check_label(kind: str, label: str) -> None:
  if not _LABEL.match(label):
    raise ValueError(f"{kind} label {label!r}: use letters, digits, '_' and '.' only (it names run directories)")


def plan(sizes: Sequence[Size], methods: Sequence[str], rules: Rules, seq_len: int, *,
         token_budgets: Sequence[float] = (), compute_budgets: Sequence[float] = (), seeds: Sequence[int] = (0,),
         extra_seeds: Sequence[int] = (), extra_seed_points: Sequence[str] = (),
         budget_tolerance: float = 0.05) -> list[Run]:
  """Every run: token budgets, then compute budgets, smallest budget and size first, a point's runs together.

  Raises ValueError, naming the point, when a budget is not met within `budget_tolerance` in whole
  steps (too few steps to be compute-matched), or when `extra_seed_points` names no grid point.
  """
  for kind, labels in (("size", [s.label for s in sizes]), ("method", methods)):
    for label in labels:
      _check_label(kind, label)
    if len(set(labels)) != len(labels) or not labels:
      raise ValueError(f"{kind}s {list(labels)}: need at least one, each named once")
  if not token_budgets and not compute_budgets:
    raise ValueError("no budgets: give token_budgets (sizes x D) and/or compute_budgets (IsoFLOP)")
  points = []
  for size in sizes:
    batch = rules.batch_size(size.n_params)
    row_tokens = batch * seq_len
    targets = [(f"D{compact(d)}", d, d, None) for d in token_budgets]
    targets += [(f"C{compact(c)}", c / size.flops_per_token, c, f"C={compact(c)}") for c in compute_budgets]
    for label, tokens, target, tag in targets:
      steps = round(tokens / row_tokens)
      achieved = steps * row_tokens * (size.flops_per_token if tag else 1)
      if steps < 1 or abs(achieved / target - 1) > budget_tolerance:
        raise ValueError(
            f"size {size.label} at {label}: {tokens:.4g} tokens is {tokens / row_tokens:.2f} steps of {batch} x "
            f"{seq_len} tokens; whole steps miss the budget by more than {budget_tolerance:.0%}: raise the budget")
      points.append(_Point(f"{size.label}/{label}", size, steps, batch, target, tag))
  unknown = sorted(set(extra_seed_points) - {p.name for p in points})
  if unknown:
    raise ValueError(f"extra_seed_points {unknown} are not grid points; the grid has {[p.name for p in points]}")
  runs = []
  for p in sorted(points, key=lambda p: (p.tag is not None, p.target, p.size.n_params)):
    tokens = p.steps * p.batch * seq_len
    point_seeds = sorted(set(seeds) | (set(extra_seeds) if p.name in extra_seed_points else set()))
    for seed in point_seeds:
      for method in methods:
        runs.append(Run(
            name=f"{method}-{p.name.replace('/', '-')}-s{seed}", method=method, size=p.size.label, point=p.name,
            seed=seed, steps=p.steps, batch_size=p.batch, learning_rate=rules.learning_rate(p.size.n_params),
            warmup_steps=rules.warmup_steps(p.steps), tokens=tokens, flops=float(tokens * p.size.flops_per_token),
            n_params=p.size.n_params, budget=p.tag))
  return runs


def unfittable_methods(runs: Sequence[Run]) -> dict[str, str]:
  """Methods whose runs the parametric law cannot be fitted to, with the fit's own reason."""
  reasons = {}
  for method in dict.fromkeys(r.method for r in runs):
    mine = [r for r in runs if r.method == method]
    try:
      parametric.check_coverage(np.array([r.n_params for r in mine]), np.array([r.tokens for r in mine]), method)
    except ValueError as e:
      reasons[method] = str(e)
  return reasons


def isoflop_gaps(runs: Sequence[Run]) -> list[str]:
  """Compute budgets with fewer sizes than an IsoFLOP parabola needs (that section of the fit is skipped)."""
  sizes = {}
  for r in runs:
    if r.budget is not None:
      sizes.setdefault((r.method, r.budget), set()).add(r.size)
  return [f"{method} at {budget}: {len(s)} size(s)" for (method, budget), s in sizes.items()
          if len(s) < isoflop.MIN_SIZES_PER_BUDGET]
