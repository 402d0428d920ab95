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
# Axes, legends and titles name things in words; a name missing here is shown as it is.
METRIC_LABELS = {"eval.loss": "Held-out loss", "eval.loss_unconditioned": "Held-out loss with no critique",
                 "eval.math_em": "Math exact match", "eval.code_pass1": "Code pass@1"}
METHOD_LABELS = {
    "baseline": "baseline", "ixt": "IXT", "ixt_cooldown": "IXT + conditioning cooldown",
    "baseline_filtered": "baseline, approved documents only", "ixt_suffix": "IXT, critique after the document",
    "ixt_dropout50": "IXT, 50% critique dropout", "ixt_critique_loss": "IXT, trained on the critique too",
    "ixt_quality_token": "IXT, one quality token", "ixt_annotated15": "IXT, 15% of documents annotated",
    "ixt_shuffled": "IXT, another document's critique", "ixt_neutral": "IXT, a neutral prefix of equal length"}
N_KIND_LABELS = {"non_embedding": "non-embedding parameters", "total": "all parameters"}


def method_label(method: str) -> str:
  return METHOD_LABELS.get(method, method)


def metric_label(metric: str) -> str:
  """The metric in words, with its unit."""
  name = METRIC_LABELS.get(metric, metric)
  return f"{name} (nats per token)" if "loss" in metric else name


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
    ax.scatter(runs.flops[mine], runs.metric[mine], s=14, alpha=0.5, color=color, label=f"{method_label(method)} runs")
    front = fit["parametric"]["frontier"]
    ax.plot(front["compute"], front["loss"], color=color, label=f"{method_label(method)}: compute-optimal frontier")
    ax.fill_between(front["compute"], _finite(front["lo"]), _finite(front["hi"]), color=color, alpha=0.2, lw=0)
  ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel=metric_label(runs.metric_name),
         title=f"{METRIC_LABELS.get(runs.metric_name, runs.metric_name)} vs compute, with fitted frontiers (95% CI)")
  ax.legend(fontsize="small")
  return fig


def isoflop_profiles(fits: dict, runs: summaries.Runs) -> mpl_figure.Figure | None:
  """One panel per method: each budget's runs and parabola; its optimum a star, hollow where the measured
  sizes do not bracket it (isoflop.unbracketed), so it is not a measured optimum."""
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
    loose = 0
    for g, budget in enumerate(iso["budgets"]):
      color = _budget_color(g, len(iso["budgets"]))
      reason = isoflop.unbracketed(budget, n[group == g], mine.metric[group == g])
      loose += reason is not None
      ax.scatter(n[group == g], mine.metric[group == g], s=14, color=color,
                 label=budget["budget"] + (" (optimum not bracketed)" if reason else ""))
      grid = np.geomspace(*budget["n_range"], 64)
      ax.plot(grid, np.polyval(budget["parabola_in_log_n"], np.log(grid)), color=color, lw=1)
      if "n_opt" in budget:
        ax.plot(budget["n_opt"], budget["loss_opt"], marker="*", ms=11, mec="black" if reason is None else color,
                mew=0.5 if reason is None else 1.2, color=color, mfc="none" if reason else color)
    exponent = f"fitted N_opt ~ C^{iso['n_opt']['exponent']:.2f}"
    ax.set(xscale="log", xlabel=f"Model size N ({N_KIND_LABELS.get(n_kind, n_kind)})",
           ylabel=metric_label(runs.metric_name),
           title=f"IsoFLOP profiles: {method_label(method)}\n({exponent}" +
                 (f", through {loose} unbracketed optima)" if loose else ")"))
    ax.legend(title="compute budget (hollow star: not bracketed)" if loose else "compute budget", fontsize="small",
              title_fontsize="small")
  return fig


def multiplier_vs_compute(fits: dict) -> mpl_figure.Figure | None:
  """Each method's multiplier per metric over the measured compute range only; the extrapolation stays in
  fits.json, labelled, and out of the figure."""
  section = fits["multiplier"]
  if "skipped" in section:
    return None
  panels = {}
  for metric in (section["sweep"]["metric"], *summaries.ACCURACY_METRICS):
    lines = [(method_label(method), result[metric], _colors(fits)[method])
             for method, result in section["methods"].items() if metric in result and "skipped" not in result[metric]]
    if lines:
      panels[metric] = lines
  return multiplier_figure(panels, section["reference"]) if panels else None


def multiplier_figure(panels: dict[str, list[tuple[str, dict, str]]], reference: str) -> mpl_figure.Figure:
  """One panel per metric, one line per (label, a fits.json multiplier entry of that metric, color), each over
  its measured compute range."""
  fig = mpl_figure.Figure(figsize=(5.4 * len(panels), 4.4), layout="constrained")
  for i, (metric, lines) in enumerate(panels.items()):
    ax = fig.add_subplot(1, len(panels), i + 1)
    extent = []
    for label, curves, color in lines:
      extent += _multiplier_curve(ax, curves["without_annotation"]["measured"], color, label)
      if curves["with_annotation"] != curves["without_annotation"]:
        extent += _multiplier_curve(ax, curves["with_annotation"]["measured"], color, f"{label} + annotation compute",
                                    alpha=0.5)
    ax.axhline(1.0, color="gray", lw=0.8, label="equal compute (below: the method needs more)")
    ax.set(xscale="log", yscale="log", ylim=(min(0.5, *extent) / 1.5, max(2.0, *extent) * 1.5), xlabel=COMPUTE_LABEL,
           ylabel=f"Compute multiplier vs the {method_label(reference)} (x)",
           title=f"{METRIC_LABELS.get(metric, metric)}, over the measured compute range")
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
      ax.scatter(runs.flops[mine], runs.accuracy[task][mine], s=14, alpha=0.5, color=color,
                 label=f"{method_label(method)} runs")
      acc = fit["accuracy"].get(task, {})
      if "curve" in acc:
        curve = acc["curve"]
        ax.plot(curve["compute"], curve["value"], color=color, label=f"{method_label(method)}: saturating fit")
        ax.fill_between(curve["compute"], _finite(curve["lo"]), _finite(curve["hi"]), color=color, alpha=0.2, lw=0)
        ax.axhline(acc["a_max"], color=color, ls=":", lw=1, label=f"{method_label(method)}: fitted maximum {acc['a_max']:.2f}")
    ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel=f"{metric_label(task)} (fraction)",
           title=f"{metric_label(task)} vs compute")
    ax.legend(fontsize="small")
  return fig


def _multiplier_curve(ax, curve: dict, color: str, label: str, alpha: float = 1.0) -> list[float]:
  """Draws one multiplier curve with its band; returns its values and interval ends (for the y range)."""
  compute, bounded = np.array(curve["compute"]), np.array([b is not None for b in curve["bound"]])
  values = np.where(bounded, np.nan, _finite(curve["value"]))
  ax.plot(compute, values, color=color, alpha=alpha, label=label)
  unbounded_above = np.nan_to_num(_finite(curve["hi"]), nan=_UNBOUNDED)  # an infinite end runs off the axis
  ax.fill_between(compute, _finite(curve["lo"]), unbounded_above, color=color, alpha=0.25 * alpha, lw=0)
  for bound, marker, kind in ((">", "^", "lower"), ("<", "v", "upper")):  # a bound is drawn as such, not as a value
    at = np.array([b == bound for b in curve["bound"]])
    if at.any():
      ax.scatter(compute[at], _finite(curve["value"])[at], marker=marker, color=color, alpha=alpha, s=18,
                 label=f"{label}: {kind} bound ({bound} x)")
  return [v for v in (*curve["value"], *curve["lo"], *curve["hi"]) if v is not None]


def _finite(values: list) -> np.ndarray:
  """JSON nulls (infinite interval ends) as NaN, so the band stops instead of spanning the axis."""
  return np.array([np.nan if v is None else v for v in values], dtype=float)


def _colors(fits: dict) -> dict[str, str]:
  """One color per method, the same in every figure."""
  return {method: f"C{i % 10}" for i, method in enumerate(fits["methods"])}


def _budget_color(index: int, count: int):
  return colormaps["viridis"](index / max(count - 1, 1) * 0.85)
