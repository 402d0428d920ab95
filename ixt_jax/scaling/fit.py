"""Fitting a whole sweep: the `fits.json` dict that experiments.fit writes and the notebook shows.

Per method: the parametric law L(N, D) with bootstrap intervals and its compute-optimal frontier,
IsoFLOP profiles (where the sweep is an IsoFLOP grid) and saturating task-accuracy curves. Then every
method's compute-efficiency multiplier against the reference, on the fitted metric and each task,
without and with annotation compute on the method's side. Row 0 of every batched array is the point
estimate, the other rows bootstrap resamples (paired across methods).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tqdm

from ixt_jax.scaling import accuracy
from ixt_jax.scaling import bootstrap
from ixt_jax.scaling import flops
from ixt_jax.scaling import frontier
from ixt_jax.scaling import isoflop
from ixt_jax.scaling import multiplier
from ixt_jax.scaling import parametric
from ixt_jax.scaling import summaries
from ixt_jax.scaling.outputs import jsonable

DEFINITION = ("C_ref(m(C)) / C: the compute the reference needs to reach the method's value m(C) at compute C, "
              "along each method's compute-optimal frontier (loss: min over N of the parametric law at "
              "D = C / FLOPs-per-token(N); tasks: the saturating accuracy envelope), divided by C")


@dataclasses.dataclass
class _Method:
  """One method's runs and everything fitted to them."""
  name: str
  runs: summaries.Runs
  n: np.ndarray
  laws: np.ndarray  # [1 + B, 5]
  cost: flops.CostPerToken
  cost_with_annotation: flops.CostPerToken
  tasks: dict = dataclasses.field(default_factory=dict)  # task -> {with_annotation: bool -> (params, log_c_ref)}
  task_notes: dict = dataclasses.field(default_factory=dict)  # task -> why it was skipped

  @property
  def annotated(self) -> bool:
    return bool(np.any(self.runs.annotation_flops > 0))


def fit_sweep(runs: summaries.Runs, *, n_kind: str = "non_embedding", n_bootstrap: int = 1000, seed: int = 0,
              reference: str = "baseline", extrapolate_to: float = multiplier.PAPER_COMPUTE,
              methods: Sequence[str] = (), progress: bool = True) -> dict:
  """Fits each method of `runs` (or only `methods`) and returns `fits.json` = {"methods", "multiplier"} as plain JSON.

  Every fitted method needs a grid the parametric law can be fitted to; a control run at a single grid
  point stops the fit, so leave such methods out with `methods`.
  """
  if n_bootstrap < 1:
    raise ValueError(f"n_bootstrap must be at least 1 (intervals come from resamples), got {n_bootstrap}")
  if methods:
    unknown = sorted(set(methods) - set(runs.methods))
    if unknown:
      raise ValueError(f"methods {unknown} have no runs; the sweep has {runs.methods}")
    runs = runs.select(np.isin(runs.method, list(methods)))
  by_method = {m: runs.of_method(m) for m in runs.methods}
  for name, method_runs in by_method.items():  # fail before any compute if a method is too thin
    parametric.check_coverage(method_runs.n(n_kind), method_runs.tokens, name)
  resamples = bootstrap.paired_resamples(
      {m: (r.n(n_kind), r.tokens, r.seed) for m, r in by_method.items()}, n_bootstrap, seed)
  with tqdm.tqdm(total=len(by_method) * n_bootstrap, desc="bootstrap refits", unit="fit", disable=not progress) as bar:
    fitted = {m: _fit_method(m, r, n_kind, resamples[m], bar) for m, r in by_method.items()}
  sweep = {"runs": len(runs), "metric": runs.metric_name, "n_kind": n_kind, "defaults": list(runs.defaults),
           "compute_range": [runs.flops.min(), runs.flops.max()],
           "bootstrap": {"resamples": n_bootstrap, "seed": seed, "level": bootstrap.LEVEL,
                         "scheme": "runs resampled within each model size; identical draws for methods on one grid"}}
  return jsonable({
      "methods": {m: {"parametric": _parametric_section(f, n_kind), "isoflop": _isoflop_section(f),
                      "accuracy": _accuracy_section(f)} for m, f in fitted.items()},
      "multiplier": _multiplier_section(fitted, reference, runs.metric_name, extrapolate_to, sweep)})


def _fit_method(name: str, runs: summaries.Runs, n_kind: str, indices: np.ndarray, bar: tqdm.tqdm) -> _Method:
  n = runs.n(n_kind)
  law = parametric.fit_law(n, runs.tokens, runs.metric, name)
  log_n, log_d, y = np.log(n), np.log(runs.tokens), np.log(runs.metric)
  resampled = parametric.refit(law, log_n[indices], log_d[indices], y[indices], on_converged=bar.update)
  method = _Method(name=name, runs=runs, n=n, laws=np.concatenate([law[None], resampled]),
                   cost=flops.CostPerToken.from_runs(n, runs.flops, runs.tokens),
                   cost_with_annotation=flops.CostPerToken.from_runs(n, runs.flops + runs.annotation_flops, runs.tokens))
  rows = np.concatenate([np.arange(len(runs))[None], indices])  # the runs themselves, then the resamples
  for task, scores in runs.accuracy.items():
    if not np.isfinite(scores).any():
      method.task_notes[task] = f"absent or null in every summary of {name!r}: skipped"
      continue
    try:
      without = _fit_task(name, task, runs, rows, runs.flops)
      with_annotation = _fit_task(name, task, runs, rows, runs.flops + runs.annotation_flops) if method.annotated else without
    except ValueError as e:
      method.task_notes[task] = str(e)
      continue
    method.tasks[task] = {False: without, True: with_annotation}
  return method


def _fit_task(name: str, task: str, runs: summaries.Runs, rows: np.ndarray, compute: np.ndarray):
  """(params [1 + B, 3], log c_ref) of the accuracy envelope of `task` against `compute` per run."""
  grid_points, point = np.unique(np.stack([runs.n_params, runs.tokens], 1), axis=0, return_inverse=True)
  point_compute = np.array([compute[point == p].mean() for p in range(len(grid_points))])
  mean, keep = accuracy.envelope(point, point_compute, runs.accuracy[task], rows)
  if keep[0].sum() < accuracy.MIN_POINTS:
    raise ValueError(f"{task} of {name!r}: {keep[0].sum()} compute-efficient grid point(s) with a score; the "
                     f"saturating fit needs at least {accuracy.MIN_POINTS}: skipped")
  log_c_ref = float(np.mean(np.log(point_compute[keep[0]])))
  return accuracy.fit(np.log(point_compute), mean, keep, log_c_ref), log_c_ref


def _estimate(samples: np.ndarray) -> tuple[np.ndarray, list]:
  return samples[0], list(bootstrap.interval(samples[1:]))


def _parametric_section(f: _Method, n_kind: str) -> dict:
  compute = np.geomspace(f.runs.flops.min(), f.runs.flops.max(), multiplier.CURVE_POINTS)
  log_loss, log_n = frontier.optimal(f.laws, f.cost, compute)
  log_d = np.log(compute) - f.cost.log_cost(log_n)
  span = np.log(compute[-1] / compute[0])
  estimates = {**parametric.named(f.laws), "n_opt_exponent": (log_n[:, -1] - log_n[:, 0]) / span,
               "d_opt_exponent": (log_d[:, -1] - log_d[:, 0]) / span}
  lo, hi = bootstrap.interval(np.exp(log_loss[1:]))
  return {**{k: v[0] for k, v in estimates.items()}, "ci": {k: _estimate(v)[1] for k, v in estimates.items()},
          "form": "L = E + A / N^alpha + B / D^beta", "n_kind": n_kind, "huber_delta": parametric.HUBER_DELTA,
          "runs": len(f.runs), "sizes": np.unique(f.n), "flops_per_token": f.cost.to_json(),
          "derived": "n_opt_exponent, d_opt_exponent: slopes of log N*, log D* vs log C on the frontier",
          "frontier": {"compute": compute, "loss": np.exp(log_loss[0]), "lo": lo, "hi": hi,
                       "n_opt": np.exp(log_n[0]), "d_opt": np.exp(log_d[0])}}


def _isoflop_section(f: _Method) -> dict:
  try:
    return isoflop.fit_isoflop(f.n, f.runs.flops, f.runs.metric, f.runs.budget, f.cost, f.name)
  except ValueError as e:  # a sweep need not be an IsoFLOP grid; the parametric fit still stands
    return {"skipped": str(e)}


def _accuracy_section(f: _Method) -> dict:
  section = {task: {"skipped": note} for task, note in f.task_notes.items()}
  for task, fits in f.tasks.items():
    params, log_c_ref = fits[False]
    compute = np.geomspace(f.runs.flops.min(), f.runs.flops.max(), multiplier.CURVE_POINTS)
    curve = accuracy.predict(params, compute, log_c_ref)
    lo, hi = bootstrap.interval(curve[1:])
    section[task] = {**{k: params[0, i] for i, k in enumerate(accuracy.PARAMS)}, "c_ref": np.exp(log_c_ref),
                     "ci": {k: _estimate(params[:, i])[1] for i, k in enumerate(accuracy.PARAMS)},
                     "form": accuracy.FORM, "fitted_to": "seed means of the compute-efficient grid points",
                     "curve": {"compute": compute, "value": curve[0], "lo": lo, "hi": hi}}
  return section


def _multiplier_section(fitted: dict, reference: str, metric: str, extrapolate_to: float, sweep: dict) -> dict:
  section = {"reference": reference, "definition": DEFINITION, "inversion_headroom": multiplier.INVERSION_HEADROOM,
             "extrapolate_to": extrapolate_to, "sweep": sweep}
  if reference not in fitted:
    section["skipped"] = f"no {reference!r} method in the sweep (methods: {sorted(fitted)}): no multiplier"
  else:
    section["methods"] = {m: _method_multipliers(f, fitted[reference], metric, extrapolate_to)
                          for m, f in fitted.items() if m != reference}
  return section


def _method_multipliers(f: _Method, ref: _Method, metric: str, extrapolate_to: float) -> dict:
  lo, hi = max(f.runs.flops.min(), ref.runs.flops.min()), min(f.runs.flops.max(), ref.runs.flops.max())
  if not lo < hi:
    return {"skipped": f"{f.name!r} and {ref.name!r} share no compute range: no multiplier"}
  curves = lambda method_curve, ref_curve, higher: multiplier.multiplier_curves(
      method_curve, ref_curve, (lo, hi), extrapolate_to, higher_is_better=higher)
  ref_frontier = lambda c: frontier.optimal(ref.laws, ref.cost, c)[0]
  loss_curves = {annotated: curves(lambda c, cost=cost: frontier.optimal(f.laws, cost, c)[0], ref_frontier, False)
                 for annotated, cost in ((False, f.cost), (True, f.cost_with_annotation)) if f.annotated or not annotated}
  out = {"compute_range": [lo, hi], "annotation": _annotation_note(f), metric: _both(loss_curves, ref.name)}
  for task in summaries.ACCURACY_METRICS:
    if task not in f.tasks or task not in ref.tasks:
      out[task] = {"skipped": f"no accuracy fit for both methods: {f.task_notes.get(task) or ref.task_notes.get(task)}"}
      continue
    ref_params, ref_log_c = ref.tasks[task][False]
    task_curves = {annotated: curves(lambda c, fit=fit: accuracy.predict(fit[0], c, fit[1]),
                                     lambda c: accuracy.predict(ref_params, c, ref_log_c), True)
                   for annotated, fit in f.tasks[task].items() if f.annotated or not annotated}
    out[task] = {**_both(task_curves, ref.name), "reference_a_max": ref_params[0, 0]}
  return out


def _both(curves: dict, reference: str) -> dict:
  """{without_annotation, with_annotation (the same when there is no annotation compute), note on bounds}."""
  out = {"without_annotation": curves[False], "with_annotation": curves.get(True, curves[False])}
  if any(b == ">" for part in curves[False].values() for b in part["bound"]):
    out["note"] = (f"the {reference} fitted curve does not reach the method's value within "
                   f"{multiplier.INVERSION_HEADROOM:g}x of the range (say, above its fitted maximum): those "
                   "multipliers are lower bounds ('> x'), not numbers")
  return out


def _annotation_note(f: _Method) -> str:
  if not f.annotated:
    return (f"annotation_flops is 0 for every {f.name!r} run: its critics are verifiers, not models, so the multiplier "
            "with annotation compute equals the one without")
  return (f"with_annotation adds each {f.name!r} run's annotation_flops to its compute (FLOPs per token of each size "
          "include the critic's share)")
