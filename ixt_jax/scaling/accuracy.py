"""Saturating fit of task accuracy against compute: acc(C) = a_max - b (C / c_ref)^-c.

Only compute-efficient runs inform the curve: seeds are averaged per grid point (N, tokens) and a
point is kept unless a point with no more compute is more accurate (the envelope a compute-optimal
recipe follows). For fixed c the model is linear in (a_max, b), so c is chosen on a fine grid with
(a_max, b) in closed form (variable projection): exact, and batched over bootstrap resamples.
"""
from __future__ import annotations

import numpy as np

PARAMS = ("a_max", "b", "c")
EXPONENT_GRID = np.geomspace(0.01, 3.0, 400)  # c; 1.4% steps, well inside any interval it gets
MIN_POINTS = len(PARAMS)  # an IsoFLOP grid gives one compute-efficient point per budget
FORM = "acc = a_max - b * (C / c_ref)^-c"


def envelope(point: np.ndarray, compute: np.ndarray, accuracy: np.ndarray, indices: np.ndarray):
  """Seed means and the compute-efficient mask of each grid point, per resample.

  point[R]: grid point of each run; compute[P]: compute of each point; accuracy[R] (NaN: not scored);
  indices[B, R]: resampled runs. Returns (mean [B, P], keep [B, P]).
  """
  scored = np.isfinite(accuracy)
  rows, points = indices.shape[0], len(compute)
  cell = (point[indices] + points * np.arange(rows)[:, None]).ravel()  # (resample, point) of every draw
  tally = lambda weights: np.bincount(cell, weights[indices].ravel(), rows * points).reshape(rows, points)
  counts, sums = tally(scored.astype(float)), tally(np.where(scored, accuracy, 0.0))
  with np.errstate(invalid="ignore", divide="ignore"):
    mean = sums / counts  # NaN where a resample has no scored run of the point
  no_more_compute = compute[None, :] <= compute[:, None]  # [p, q]: q costs no more than p
  dominated = (no_more_compute[None] & (mean[:, None, :] > mean[:, :, None])).any(-1)
  return mean, (counts > 0) & ~dominated


def fit(log_compute: np.ndarray, accuracy: np.ndarray, keep: np.ndarray, log_c_ref: float) -> np.ndarray:
  """(a_max, b, c) [B, 3] by least squares over the kept points of each row of accuracy [B, P].

  b >= 0 (accuracy does not fall with compute) and a_max <= 1 (no accuracy exceeds 1).
  """
  x = np.exp(-EXPONENT_GRID[:, None] * (log_compute - log_c_ref)[None, :])  # [K, P]
  w = keep.astype(float)
  y = np.where(keep, accuracy, 0.0)
  sw, sy, syy = w.sum(1, keepdims=True), (w * y).sum(1, keepdims=True), (w * y * y).sum(1, keepdims=True)
  sx, sxx, sxy = w @ x.T, w @ (x * x).T, (w * y) @ x.T  # [B, K]
  with np.errstate(invalid="ignore", divide="ignore"):
    b = np.maximum(-(sxy - sx * sy / sw) / (sxx - sx * sx / sw), 0.0)
    a = (sy + b * sx) / sw
    capped = a > 1.0  # refit b with a_max held at 1
    b = np.where(capped, np.maximum((sx - sxy) / sxx, 0.0), b)
    a = np.where(capped, 1.0, a)
    sse = syy + a * a * sw + b * b * sxx - 2 * a * sy + 2 * b * sxy - 2 * a * b * sx
  best = np.argmin(np.where(np.isfinite(sse), sse, np.inf), axis=1)
  rows = np.arange(len(best))
  return np.stack([a[rows, best], b[rows, best], EXPONENT_GRID[best]], axis=1)


def predict(params: np.ndarray, compute: np.ndarray, log_c_ref: float) -> np.ndarray:
  """acc [B, M] of params [B, 3] at compute [M]."""
  a, b, c = (params[:, i, None] for i in range(3))
  return a - b * np.exp(-c * (np.log(compute)[None, :] - log_c_ref))
