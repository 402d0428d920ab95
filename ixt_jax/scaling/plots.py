"""Paper figures of a fit: loss vs compute with frontiers, IsoFLOP profiles, the multiplier, accuracy.

Each function takes the `fits.json` dict (and the runs, for the scatter) and returns a matplotlib
Figure built without pyplot, so it works headless, in a notebook and in threads alike.
"""
from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib import figure as mpl_figure

from ixt_jax.scaling import isoflop
from ixt_jax.scaling import summaries

COMPUTE_LABEL = "Training compute C (FLOPs)"
_UNBOUNDED = 1e30  # stands in for an infinite interval end when drawing a band
TASK_LABELS = {"eval.math_em": "Math exact match", "eval.code_pass1": "Code pass@1"}


def make_figures(fits: dict, runs: summaries.Runs) -> dict[str, mpl_figure.Figure]:
  """Every figure the fit supports, by file name (figures without data, say IsoFLOP on a token grid, are left out)."""
  figures = {"loss_vs_compute": loss_vs_compute(fits, runs), "isoflop": isoflop_profiles(fits, runs),
             "multiplier": multiplier_vs_compute(fits), "accuracy_vs_compute": accuracy_vs_compute(fits, runs)}
  return {name: fig for name, fig in figures.items() if fig is not None}


def loss_vs_compute(fits: dict, runs: summaries.Runs) -> mpl_figure.Figure:
  fig = mpl_figure.Figure(figsize=(6.4, 4.4), layout="constrained")
  ax = fig.add_subplot()
  for method, fit in fits["methods"].items():
    color, mine = _colors(fits)[method], runs.method == method
    ax.scatter(runs.flops[mine], runs.metric[mine], s=14, alpha=0.5, color=color, label=f"{method} runs")
    front = fit["parametric"]["frontier"]
    ax.plot(front["compute"], front["loss"], color=color, label=f"{method} compute-optimal frontier")
    ax.fill_between(front["compute"], _finite(front["lo"]), _finite(front["hi"]), color=color, alpha=0.2, lw=0)
  ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel=_metric_label(runs.metric_name),
         title=f"Held-out {runs.metric_name} vs compute, with fitted frontiers (95% CI)")
  ax.legend(fontsize="small")
  return fig


def isoflop_profiles(fits: dict, runs: summaries.Runs) -> mpl_figure.Figure | None:
  fitted = {m: f["isoflop"] for m, f in fits["methods"].items() if "skipped" not in f["isoflop"]}
  if not fitted:
    return None
  n_kind = fits["multiplier"]["sweep"]["n_kind"]
  fig = mpl_figure.Figure(figsize=(5.0 * len(fitted), 4.4), layout="constrained")
  for i, (method, iso) in enumerate(fitted.items()):
    ax = fig.add_subplot(1, len(fitted), i + 1)
    mine = runs.of_method(method)
    group = isoflop.group_budgets(mine.flops, mine.budget)[0]
    n = mine.n(n_kind)
    for g, budget in enumerate(iso["budgets"]):
      color = _budget_color(g, len(iso["budgets"]))
      ax.scatter(n[group == g], mine.metric[group == g], s=14, color=color, label=budget["budget"])
      grid = np.geomspace(*budget["n_range"], 64)
      ax.plot(grid, np.polyval(budget["parabola_in_log_n"], np.log(grid)), color=color, lw=1)
      if "n_opt" in budget:
        ax.plot(budget["n_opt"], budget["loss_opt"], marker="*", ms=11, color=color, mec="black", mew=0.5)
    ax.set(xscale="log", xlabel=f"Model size N ({n_kind.replace('_', '-')} parameters)",
           ylabel=_metric_label(runs.metric_name),
           title=f"IsoFLOP profiles: {method} (N_opt ~ C^{iso['n_opt']['exponent']:.2f})")
    ax.legend(title="compute budget", fontsize="small")
  return fig


def multiplier_vs_compute(fits: dict) -> mpl_figure.Figure | None:
  section = fits["multiplier"]
  if "skipped" in section:
    return None
  metrics = [section["sweep"]["metric"], *summaries.ACCURACY_METRICS]
  metrics = [m for m in metrics if any(m in r and "skipped" not in r[m] for r in section["methods"].values())]
  if not metrics:
    return None
  fig = mpl_figure.Figure(figsize=(5.4 * len(metrics), 4.4), layout="constrained")
  for i, metric in enumerate(metrics):
    ax = fig.add_subplot(1, len(metrics), i + 1)
    extent = []  # the y range follows the measured range; extrapolation runs off it
    for method, result in section["methods"].items():
      color = _colors(fits)[method]
      if metric not in result or "skipped" in result[metric]:
        continue
      curves = result[metric]
      extent += _multiplier_curve(ax, curves["without_annotation"], color, method)
      if curves["with_annotation"] != curves["without_annotation"]:
        extent += _multiplier_curve(ax, curves["with_annotation"], color, f"{method} + annotation compute", alpha=0.5)
    ax.axhline(1.0, color="gray", lw=0.8)
    ax.set(xscale="log", yscale="log", ylim=(min(0.5, *extent) / 1.5, max(2.0, *extent) * 4), xlabel=COMPUTE_LABEL,
           ylabel=f"Compute multiplier vs {section['reference']} (x)",
           title=f"Compute-efficiency multiplier on {metric}")
    ax.legend(fontsize="small")
  return fig


def accuracy_vs_compute(fits: dict, runs: summaries.Runs) -> mpl_figure.Figure | None:
  tasks = [t for t in summaries.ACCURACY_METRICS if any("curve" in f["accuracy"].get(t, {}) for f in
                                                         fits["methods"].values())]
  if not tasks:
    return None
  fig = mpl_figure.Figure(figsize=(5.4 * len(tasks), 4.4), layout="constrained")
  for i, task in enumerate(tasks):
    ax = fig.add_subplot(1, len(tasks), i + 1)
    for method, fit in fits["methods"].items():
      color, mine = _colors(fits)[method], runs.method == method
      ax.scatter(runs.flops[mine], runs.accuracy[task][mine], s=14, alpha=0.5, color=color, label=f"{method} runs")
      acc = fit["accuracy"].get(task, {})
      if "curve" in acc:
        curve = acc["curve"]
        ax.plot(curve["compute"], curve["value"], color=color, label=f"{method} saturating fit")
        ax.fill_between(curve["compute"], _finite(curve["lo"]), _finite(curve["hi"]), color=color, alpha=0.2, lw=0)
        ax.axhline(acc["a_max"], color=color, ls=":", lw=1, label=f"{method} fitted maximum {acc['a_max']:.2f}")
    ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel=f"{TASK_LABELS.get(task, task)} (fraction)",
           title=f"{TASK_LABELS.get(task, task)} vs compute")
    ax.legend(fontsize="small")
  return fig


def _multiplier_curve(ax, parts: dict, color: str, label: str, alpha: float = 1.0) -> list[float]:
  """Draws one method's multiplier; returns the measured values and interval ends (for the y range)."""
  for name, style, band in (("measured", "-", 0.25), ("extrapolation", "--", 0.1)):
    if name not in parts:
      continue
    curve = parts[name]
    compute, bounded = np.array(curve["compute"]), np.array([b is not None for b in curve["bound"]])
    suffix = " (extrapolation)" if name == "extrapolation" else " (measured range)"
    values = np.where(bounded, np.nan, curve["value"])
    ax.plot(compute, values, ls=style, color=color, alpha=alpha, label=label + suffix)
    unbounded_above = np.nan_to_num(_finite(curve["hi"]), nan=_UNBOUNDED)  # an infinite end runs off the axis
    ax.fill_between(compute, _finite(curve["lo"]), unbounded_above, color=color, alpha=band * alpha, lw=0)
    for bound, marker, kind in ((">", "^", "lower"), ("<", "v", "upper")):  # a bound is drawn as such, not as a value
      at = np.array([b == bound for b in curve["bound"]])
      if at.any():
        ax.scatter(compute[at], np.array(curve["value"])[at], marker=marker, color=color, alpha=alpha, s=18,
                   label=f"{label}: {kind} bound ({bound} x)")
  measured = parts["measured"]
  return [v for v in (*measured["value"], *measured["lo"], *measured["hi"]) if v is not None]


def _finite(values: list) -> np.ndarray:
  """JSON nulls (infinite interval ends) as NaN, so the band stops instead of spanning the axis."""
  return np.array([np.nan if v is None else v for v in values], dtype=float)


def _metric_label(metric: str) -> str:
  return f"{metric} (nats per token)" if metric.endswith("loss") else metric


def _colors(fits: dict) -> dict[str, str]:
  """One color per method, the same in every figure."""
  return {method: f"C{i % 10}" for i, method in enumerate(fits["methods"])}


def _budget_color(index: int, count: int):
  return colormaps["viridis"](index / max(count - 1, 1) * 0.85)
