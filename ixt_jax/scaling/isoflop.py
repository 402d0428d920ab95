"""Chinchilla approach 2: IsoFLOP profiles, one parabola of loss in log N per compute budget.

Runs share a budget when they carry the same `budget` tag, or else when their FLOPs agree within
BUDGET_TOLERANCE. Each budget's parabola gives its optimal size N_opt (and D_opt = C / cost(N_opt)),
and power laws N_opt = G C^a, D_opt = H C^b are fitted across budgets. An optimum is measured only where
the measured sizes bracket it (`unbracketed` says why not).
"""
from __future__ import annotations

import numpy as np

from ixt_jax.scaling import flops

BUDGET_TOLERANCE = 0.10
MIN_SIZES_PER_BUDGET = 3
MIN_BUDGETS = 2


def group_budgets(run_flops: np.ndarray, tags: np.ndarray, tolerance: float = BUDGET_TOLERANCE):
  """(budget index per run, compute per budget, label per budget, how runs were grouped)."""
  if all(tag is not None for tag in tags):
    names = sorted(set(tags.tolist()), key=lambda tag: np.median(run_flops[tags == tag]))
    group = np.array([names.index(tag) for tag in tags])
    how = "by the summaries' `budget` tag"
  else:
    order = np.argsort(run_flops)
    group = np.empty(len(run_flops), dtype=int)
    start, index = run_flops[order[0]], 0
    for i in order:
      if run_flops[i] > start * (1 + tolerance):  # a new budget starts more than `tolerance` above the last
        start, index = run_flops[i], index + 1
      group[i] = index
    names = None
    how = f"runs whose FLOPs agree within {tolerance:.0%} of the budget's smallest"
  compute = np.array([np.median(run_flops[group == g]) for g in range(group.max() + 1)])
  labels = [str(name) for name in names] if names else [f"{c:.3g} FLOPs" for c in compute]
  return group, compute, labels, how


def fit_isoflop(n: np.ndarray, run_flops: np.ndarray, loss: np.ndarray, tags: np.ndarray,
                cost: flops.CostPerToken, label: str = "") -> dict:
  """Per-budget parabolas and the N_opt(C), D_opt(C) power laws; raises naming any budget too thin to fit."""
  group, compute, labels, how = group_budgets(run_flops, tags)
  thin = [f"budget {labels[g]} has {len(np.unique(n[group == g]))} model size(s)"
          for g in range(len(compute)) if len(np.unique(n[group == g])) < MIN_SIZES_PER_BUDGET]
  if thin:
    raise ValueError(
        f"IsoFLOP fit of {label!r} needs at least {MIN_SIZES_PER_BUDGET} model sizes per compute budget (budgets: "
        f"{how}); {'; '.join(thin)}")
  budgets = []
  for g, (c, name) in enumerate(zip(compute, labels)):
    log_n = np.log(n[group == g])
    curvature, slope, intercept = np.polyfit(log_n, loss[group == g], 2)
    budget = {"budget": name, "compute": c, "runs": int(np.sum(group == g)), "sizes": len(np.unique(log_n)),
              "parabola_in_log_n": [curvature, slope, intercept], "n_range": np.exp([log_n.min(), log_n.max()])}
    if curvature <= 0:
      budget["note"] = "loss is not convex in log N here: no optimum, left out of the power laws"
    else:
      log_n_opt = -slope / (2 * curvature)
      n_opt = np.exp(log_n_opt)
      budget.update(n_opt=n_opt, d_opt=c / cost(n_opt), loss_opt=intercept - slope**2 / (4 * curvature),
                    bracketed=bool(log_n.min() <= log_n_opt <= log_n.max()))
    budgets.append(budget)
  fitted = [b for b in budgets if "n_opt" in b]
  if len(fitted) < MIN_BUDGETS:
    raise ValueError(f"IsoFLOP fit of {label!r} needs at least {MIN_BUDGETS} budgets with an optimum to fit "
                     f"N_opt(C); it has {len(fitted)} (budgets: {how})")
  log_c = np.log([b["compute"] for b in fitted])
  laws = {}
  for key in ("n_opt", "d_opt"):
    exponent, log_coefficient = np.polyfit(log_c, np.log([b[key] for b in fitted]), 1)
    laws[key] = {"coefficient": np.exp(log_coefficient), "exponent": exponent}
  return {"grouping": how, "budgets": budgets, **laws, "form": "X_opt = coefficient * C^exponent"}


def unbracketed(budget: dict, n: np.ndarray, loss: np.ndarray) -> str | None:
  """Why one budget's optimum (a `fit_isoflop` budget, its runs' sizes and losses) is not bracketed by the
  measured sizes, or None where it is: the best measured size (mean over seeds) must have a measured size
  on either side, and the parabola's minimum must lie within the measured sizes."""
  sizes = np.unique(n)
  best = sizes[np.argmin([np.mean(loss[n == size]) for size in sizes])]
  if best in (sizes[0], sizes[-1]):
    return f"the best measured size (N = {best:,.0f}) is the {'smallest' if best == sizes[0] else 'largest'}"
  if "n_opt" not in budget:
    return "loss is not convex in log N: no optimum"
  if not budget["bracketed"]:
    return "the parabola's minimum lies outside the measured sizes"
  return None
