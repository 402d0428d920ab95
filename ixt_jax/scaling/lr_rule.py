"""The per-size learning-rate rule a sweep uses, fitted to a learning-rate sweep at (at least) two sizes.

Per size, the held-out loss of every method is averaged at each learning rate (one rule for every
method: tuning it to one method would make the multiplier measure mistuning), a parabola in log(lr)
through those means gives the best learning rate (clipped to the swept range: a sweep whose best is
at its edge says so), and a power law through the sizes' best values is the rule:

  lr(N) = lr_reference * (N / n_reference) ** -lr_exponent
"""
from __future__ import annotations

import numpy as np

from ixt_jax.scaling.summaries import Runs


def best_learning_rate(lrs: np.ndarray, losses: np.ndarray) -> tuple[float, bool]:
  """(best lr, whether it lies at the edge of the swept range) from mean losses at >= 3 learning rates."""
  order = np.argsort(lrs)
  x, y = np.log(lrs[order]), losses[order]
  if len(x) < 3:
    raise ValueError(f"a learning-rate sweep needs at least 3 learning rates per size, got {len(x)}")
  a, b, _ = np.polyfit(x, y, 2)
  if a <= 0:  # no interior minimum: the best measured one
    best = x[np.argmin(y)]
  else:
    best = np.clip(-b / (2 * a), x[0], x[-1])
  return float(np.exp(best)), bool(best in (x[0], x[-1]))


def fit_rule(runs: Runs, learning_rates: np.ndarray) -> dict:
  """The rule from a learning-rate sweep: `runs` (summaries; N is non-embedding parameters, the loss
  is `runs.metric`) and each run's learning rate, in the same order.

  Returns {'lr_reference', 'n_reference', 'lr_exponent', 'sizes': [{'n_params', 'best_lr', 'at_edge',
  'mean_loss': {lr: loss}}, ...]}, sizes smallest first.
  """
  learning_rates = np.asarray(learning_rates, float)
  sizes = []
  for n in np.unique(runs.n_params_non_embedding):
    at_size = runs.n_params_non_embedding == n
    lrs = np.unique(learning_rates[at_size])
    means = np.array([runs.metric[at_size & (learning_rates == lr)].mean() for lr in lrs])
    best, at_edge = best_learning_rate(lrs, means)
    sizes.append({"n_params": int(n), "best_lr": best, "at_edge": at_edge,
                  "mean_loss": {f"{lr:g}": float(m) for lr, m in zip(lrs, means)},
                  "methods": sorted(set(runs.method[at_size].tolist()))})
  if len(sizes) < 2:
    raise ValueError(f"a learning-rate rule needs a sweep at 2 or more sizes, got {len(sizes)}")
  log_n = np.log([s["n_params"] for s in sizes])
  log_lr = np.log([s["best_lr"] for s in sizes])
  slope, intercept = np.polyfit(log_n, log_lr, 1)
  n_reference = sizes[0]["n_params"]
  return {"lr_reference": float(np.exp(intercept + slope * np.log(n_reference))), "n_reference": n_reference,
          "lr_exponent": float(-slope), "sizes": sizes}
