"""A short plain-text table of a `fits.json` dict: the laws, the IsoFLOP optima and the multipliers."""
from __future__ import annotations

from collections.abc import Collection

from ixt_jax.scaling import multiplier
from ixt_jax.scaling import parametric
from ixt_jax.scaling import summaries


def format_fits(fits: dict) -> str:
  """Every section: the laws, the IsoFLOP profiles and the multipliers, extrapolation included."""
  return "\n\n".join([header(fits), laws(fits), isoflop_profiles(fits), multipliers(fits)])


def header(fits: dict) -> str:
  sweep = fits["multiplier"]["sweep"]
  resampling = sweep["bootstrap"]
  lines = [f"{sweep['runs']} runs; metric {sweep['metric']}; N = {sweep['n_kind']} parameters; "
           f"[{resampling['level']:.0%} bootstrap intervals, {resampling['resamples']} paired resamples]"]
  return "\n".join(lines + [f"default: {note}" for note in sweep["defaults"]])


def laws(fits: dict, methods: Collection[str] | None = None) -> str:
  """The parametric law of each method (of `methods`, if given) with its intervals."""
  lines = ["Parametric fits  L = E + A / N^alpha + B / D^beta", _row("method", *parametric.PARAMS, "N_opt ~ C^a")]
  for method, fit in _of(fits["methods"], methods).items():
    law = fit["parametric"]
    lines.append(_row(method, *(_interval(law[k], law["ci"][k]) for k in (*parametric.PARAMS, "n_opt_exponent"))))
  return "\n".join(lines)


def isoflop_profiles(fits: dict) -> str:
  lines = ["IsoFLOP profiles"]
  for method, fit in fits["methods"].items():
    iso = fit["isoflop"]
    lines.append(f"  {method}: {iso['skipped']}" if "skipped" in iso else
                 f"  {method}: N_opt ~ C^{iso['n_opt']['exponent']:.3f}, D_opt ~ C^{iso['d_opt']['exponent']:.3f} "
                 f"over {len(iso['budgets'])} budgets")
  return "\n".join(lines)


def multipliers(fits: dict, methods: Collection[str] | None = None, extrapolation: bool = True) -> str:
  """Each method's (of `methods`, if given) multiplier at both ends of the measured range and, with
  `extrapolation`, at the end of the extrapolation."""
  lines = [f"Compute multiplier vs {fits['multiplier']['reference']!r}"]
  if "skipped" in fits["multiplier"]:
    return "\n".join([*lines, "  " + fits["multiplier"]["skipped"]])
  metrics = (fits["multiplier"]["sweep"]["metric"], *summaries.ACCURACY_METRICS)
  for method, result in _of(fits["multiplier"]["methods"], methods).items():
    lines += _multiplier_lines(method, result, metrics, extrapolation)
  return "\n".join(lines)


def _of(by_method: dict, methods: Collection[str] | None) -> dict:
  return by_method if methods is None else {m: v for m, v in by_method.items() if m in methods}


def _multiplier_lines(method: str, result: dict, metrics: tuple[str, ...], extrapolation: bool) -> list[str]:
  if "skipped" in result:
    return [f"  {method}: {result['skipped']}"]
  lines = [f"  {method} ({result['annotation']})"]
  for metric in metrics:
    curves = result[metric]
    if "skipped" in curves:
      lines.append(f"    {metric}: {curves['skipped']}")
      continue
    for mode in ("without_annotation", "with_annotation"):
      parts = curves[mode]
      points = [_point(parts["measured"], 0), _point(parts["measured"], -1)]
      if extrapolation and "extrapolation" in parts:
        points.append(_point(parts["extrapolation"], -1))
      if mode == "with_annotation" and parts == curves["without_annotation"]:
        points = ["the same"]
      lines.append(f"    {metric:<16} {mode.replace('_', ' '):<20} " + "   ".join(points))
    if "note" in curves:
      lines.append(f"      note: {curves['note']}")
  return lines


def _point(curve: dict, i: int) -> str:
  tag = " (extrapolated)" if "label" in curve else ""
  value = multiplier.display(curve["value"][i], curve["bound"][i])
  return f"@{curve['compute'][i]:.2g}{tag}: {value} {bracket(curve['lo'][i], curve['hi'][i])}"


def _interval(value: float, ci: list) -> str:
  return f"{value:.4g} {bracket(*ci)}"


def bracket(lo: float | None, hi: float | None) -> str:
  show = lambda x: "inf" if x is None else f"{x:.3g}"
  return f"[{show(lo)}, {show(hi)}]"


def _row(*cells: str) -> str:
  return "  " + cells[0].ljust(14) + "".join(str(c).ljust(24) for c in cells[1:])
