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

WITHOUT, WITH = "without_annotation", "with_annotation"  # annotation compute on the method's side


@dataclasses.dataclass
class _Method:
  """One method's runs and everything fitted to them."""
  name: str
  runs: summaries.Runs
  n: np.ndarray
  laws: np.ndarray  # [1 + B, 5]
  cost: flops.CostPerToken
  cost_with_annotation: flops.CostPerToken
  tasks: dict = dataclasses.field(default_factory=dict)  # task -> {mode: (params [1 + B, 3], log_c_ref)}
  task_notes: dict = dataclasses.field(default_factory=dict)  # task -> why it was skipped

  @property
  def annotated(self) -> bool:
    return bool(np.any(self.runs.annotation_flops > 0))

  @property
  def modes(self) -> tuple[str, ...]:
    """Without annotation compute, and with it where there is any (else the two are the same)."""
    return (WITHOUT, WITH) if self.annotated else (WITHOUT,)


def fittable_methods(runs: summaries.Runs, n_kind: str = "non_embedding") -> tuple[list[str], dict[str, str]]:
  """The methods whose runs the parametric law can be fitted to, and why each other method cannot
  (e.g. a control run at a single grid point)."""
  fittable, left_out = [], {}
  for method in runs.methods:
    mine = runs.of_method(method)
    try:
      parametric.check_coverage(mine.n(n_kind), mine.tokens, method)
      fittable.append(method)
    except ValueError as e:
      left_out[method] = str(e)
  return fittable, left_out


def fit_sweep(runs: summaries.Runs, *, n_kind: str = "non_embedding", n_bootstrap: int = 1000, seed: int = 0,
              reference: str = "baseline", extrapolate_to: float = multiplier.PAPER_COMPUTE,
              methods: Sequence[str] = (), progress: bool = True) -> dict:
  """Fits each method of `runs` (or only `methods`) and returns `fits.json` = {"methods", "multiplier"} as plain JSON.

  Every fitted method needs a grid the parametric law can be fitted to; a control run at a single grid
  point stops the fit, so leave such methods out with `methods` (see fittable_methods).
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
                   cost_with_annotation=flops.CostPerToken.from_runs(n, runs.flops, runs.tokens, runs.annotation_flops))
  rows = np.concatenate([np.arange(len(runs))[None], indices])  # the runs themselves, then the resamples
  for task, scores in runs.accuracy.items():
    if not np.isfinite(scores).any():
      method.task_notes[task] = f"absent or null in every summary of {name!r}: skipped"
      continue
    compute = {WITHOUT: runs.flops, WITH: runs.flops + runs.annotation_flops}
    try:
      method.tasks[task] = {mode: _fit_task(name, task, runs, rows, compute[mode]) for mode in method.modes}
    except ValueError as e:
      method.task_notes[task] = str(e)
  return method


def _fit_task(name: str, task: str, runs: summaries.Runs, rows: np.ndarray, compute: np.ndarray):
  """(params [1 + B, 3], log c_ref) of the accuracy envelope of `task` against `compute` per run."""
  point = np.unique(np.stack([runs.n_params, runs.tokens], 1), axis=0, return_inverse=True)[1].ravel()
  point_compute = np.array([compute[point == p].mean() for p in range(point.max() + 1)])
  mean, keep = accuracy.envelope(point, point_compute, runs.accuracy[task], rows)
  if keep[0].sum() < accuracy.MIN_POINTS:
    raise ValueError(f"{task} of {name!r}: {keep[0].sum()} compute-efficient grid point(s) with a score; the "
                     f"saturating fit needs at least {accuracy.MIN_POINTS}: skipped")
  log_c_ref = float(np.mean(np.log(point_compute[keep[0]])))
  return accuracy.fit(np.log(point_compute), mean, keep, log_c_ref), log_c_ref


def _ci(samples: np.ndarray) -> list:
  """The bootstrap interval of rows 1: (row 0 is the point estimate)."""
  return list(bootstrap.interval(samples[1:]))


def _parametric_section(f: _Method, n_kind: str) -> dict:
  compute = np.geomspace(f.runs.flops.min(), f.runs.flops.max(), multiplier.CURVE_POINTS)
  log_loss, log_n = frontier.optimal(f.laws, f.cost, compute)
  log_d = np.log(compute) - f.cost.log_cost(log_n)
  span = np.log(compute[-1] / compute[0])
  estimates = {**parametric.named(f.laws), "n_opt_exponent": (log_n[:, -1] - log_n[:, 0]) / span,
               "d_opt_exponent": (log_d[:, -1] - log_d[:, 0]) / span}
  lo, hi = _ci(np.exp(log_loss))
  return {**{k: v[0] for k, v in estimates.items()}, "ci": {k: _ci(v) for k, v in estimates.items()},
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
  compute = np.geomspace(f.runs.flops.min(), f.runs.flops.max(), multiplier.CURVE_POINTS)
  for task, fits in f.tasks.items():
    params, log_c_ref = fits[WITHOUT]
    curve = accuracy.predict(params, compute, log_c_ref)
    lo, hi = _ci(curve)
    section[task] = {**{k: params[0, i] for i, k in enumerate(accuracy.PARAMS)}, "c_ref": np.exp(log_c_ref),
                     "ci": {k: _ci(params[:, i]) for i, k in enumerate(accuracy.PARAMS)},
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

  def versus_reference(method_curve, reference_curve, higher_is_better):
    return multiplier.multiplier_curves(method_curve, reference_curve, (lo, hi), extrapolate_to, higher_is_better)

  costs = {WITHOUT: f.cost, WITH: f.cost_with_annotation}
  reference_frontier = _loss_frontier(ref.laws, ref.cost)
  loss = {mode: versus_reference(_loss_frontier(f.laws, costs[mode]), reference_frontier, False) for mode in f.modes}
  out = {"compute_range": [lo, hi], "annotation": _annotation_note(f), metric: _both(loss, ref.name)}
  for task in summaries.ACCURACY_METRICS:
    if task not in f.tasks or task not in ref.tasks:
      out[task] = {"skipped": f"no accuracy fit for both methods: {f.task_notes.get(task) or ref.task_notes.get(task)}"}
      continue
    reference_fit = ref.tasks[task][WITHOUT]
    curves = {mode: versus_reference(_accuracy_curve(*f.tasks[task][mode]), _accuracy_curve(*reference_fit), True)
              for mode in f.modes}
    out[task] = {**_both(curves, ref.name), "reference_a_max": reference_fit[0][0, 0]}
  return out


def _loss_frontier(laws: np.ndarray, cost: flops.CostPerToken) -> multiplier.Curve:
  return lambda compute: frontier.optimal(laws, cost, compute)[0]


def _accuracy_curve(params: np.ndarray, log_c_ref: float) -> multiplier.Curve:
  return lambda compute: accuracy.predict(params, compute, log_c_ref)


def _both(curves: dict, reference: str) -> dict:
  """Both modes (with annotation the same as without when there is none) and a note where there are bounds."""
  out = {WITHOUT: curves[WITHOUT], WITH: curves.get(WITH, curves[WITHOUT])}
  if any(b == ">" for part in curves[WITHOUT].values() for b in part["bound"]):
    out["note"] = (f"the {reference} fitted curve does not reach the method's value within "
                   f"{multiplier.INVERSION_HEADROOM:g}x of the range (say, above its fitted maximum): those "
                   "multipliers are lower bounds ('> x'), not numbers")
  return out


def _annotation_note(f: _Method) -> str:
  if not f.annotated:
    return (f"annotation_flops is 0 for every {f.name!r} run: its critics are verifiers, not models, so the multiplier "
            "with annotation compute equals the one without")
  return (f"with_annotation adds the annotation_flops of the {f.name!r} runs to its compute: "
          f"{f.cost_with_annotation.offset:.3g} FLOPs per training token, the same for every model size")
