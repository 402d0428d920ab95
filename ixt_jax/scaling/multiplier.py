"""Compute-efficiency multiplier: how much more compute the reference needs to match a method.

At compute C a method reaches m(C) on its fitted curve (the compute-optimal loss frontier, or the
accuracy envelope); the reference reaches the same value at C_ref(m(C)), found by inverting its own
curve numerically. The multiplier is C_ref(m(C)) / C: 2 means the reference needs twice the compute.
Curves are batched: row 0 is the point estimate, the other rows bootstrap resamples.

Where the reference never reaches m(C) within INVERSION_HEADROOM of the reported range (say IXT's
accuracy exceeds the baseline's fitted maximum), the multiplier is a lower bound ("> x"), not a number.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ixt_jax.scaling import bootstrap

INVERSION_HEADROOM = 10.0  # the reference curve is inverted up to 10x beyond the reported compute
POINTS_PER_DECADE = 16  # of the inversion grid; the interpolation error is ~0.1% of the multiplier
CURVE_POINTS = 33
PAPER_COMPUTE = 6 * 12e9 * 18e12  # 12B parameters x 18T tokens, the largest scale of the IXT paper
EXTRAPOLATION_LABEL = ("extrapolation beyond the measured compute range, towards the IXT paper's scales (7.5B-12B "
                       "parameters, up to 18T tokens): the fitted laws are assumed to hold, and the interval widens")

Curve = Callable[[np.ndarray], np.ndarray]  # compute [M] -> values [1 + B, M]


def multiplier_curves(method: Curve, reference: Curve, compute_range: tuple[float, float], extrapolate_to: float,
                      higher_is_better: bool) -> dict:
  """{"measured": curve over compute_range, "extrapolation": curve from its top to extrapolate_to}."""
  lo, hi = compute_range
  top = max(hi, extrapolate_to)
  decades = np.log10(top * INVERSION_HEADROOM) - np.log10(lo / INVERSION_HEADROOM)
  grid = np.geomspace(lo / INVERSION_HEADROOM, top * INVERSION_HEADROOM, int(decades * POINTS_PER_DECADE) + 1)
  reference_values = reference(grid)
  curves = {"measured": np.geomspace(lo, hi, CURVE_POINTS)}
  if extrapolate_to > hi:
    curves["extrapolation"] = np.geomspace(hi, extrapolate_to, CURVE_POINTS)
  result = {}
  for name, compute in curves.items():
    ratio, bound = ratios(compute, method(compute), grid, reference_values, higher_is_better)
    result[name] = summarize(compute, ratio, bound)
  if "extrapolation" in result:
    result["extrapolation"]["label"] = EXTRAPOLATION_LABEL
  return result


def ratios(compute: np.ndarray, values: np.ndarray, grid: np.ndarray, reference_values: np.ndarray,
           higher_is_better: bool) -> tuple[np.ndarray, np.ndarray]:
  """(C_ref(values) / compute, bound) for values [B, M]; bound is +1 where the ratio is only a lower bound
  (the reference does not get there by grid[-1]) and -1 where only an upper bound (it is past it at grid[0])."""
  sign = -1.0 if higher_is_better else 1.0  # invert as if lower were better
  values, reference_values = sign * values, sign * reference_values
  log_grid = np.log(grid)
  log_needed = np.empty_like(values)
  bound = np.zeros(values.shape, dtype=int)
  for row, (target, curve) in enumerate(zip(values, reference_values)):
    curve = np.minimum.accumulate(curve)  # the best reached by a compute, so the curve can be inverted
    log_needed[row] = np.interp(target, curve[::-1], log_grid[::-1])
    bound[row] = np.where(target < curve[-1], 1, np.where(target > curve[0], -1, 0))
  return np.exp(log_needed) / compute, bound


def summarize(compute: np.ndarray, ratio: np.ndarray, bound: np.ndarray) -> dict:
  """Point estimate (row 0) with its bootstrap interval; a bounded resample counts as +-infinity."""
  draws = np.where(bound[1:] > 0, np.inf, np.where(bound[1:] < 0, 0.0, ratio[1:]))
  lo, hi = bootstrap.interval(draws)
  return {"compute": compute, "value": ratio[0], "bound": [{1: ">", -1: "<"}.get(b) for b in bound[0]],
          "lo": lo, "hi": hi}


def display(value: float, bound: str | None) -> str:
  """'2.04', or '> 31.6' for a lower bound."""
  return f"{bound} {value:.3g}" if bound else f"{value:.3g}"
