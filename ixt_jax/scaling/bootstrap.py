"""Paired bootstrap over runs: resample runs within each model size, the same draws for every method.

Drawing within a size keeps each resample's size ladder intact (a fit never loses a size by chance).
Methods whose runs lie on the same grid get identical draws, so a difference between methods is not
resampling noise: a method compared with itself gets a multiplier of exactly 1 in every resample.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

LEVEL = 0.95  # two-sided percentile intervals


def paired_resamples(grids: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n_resamples: int,
                     seed: int) -> dict[str, np.ndarray]:
  """Indices [n_resamples, runs] into each method's runs, given grids[method] = (N, tokens, seed) per run."""
  rng = np.random.default_rng(seed)
  sizes = np.unique(np.concatenate([n for n, _, _ in grids.values()]))
  most = {size: max(int(np.sum(n == size)) for n, _, _ in grids.values()) for size in sizes}
  uniforms = {size: rng.random((n_resamples, most[size])) for size in sizes}  # shared by all methods
  indices = {}
  for method, (n, tokens, seeds) in grids.items():
    order = np.lexsort((seeds, tokens, n))  # grid order, so equal grid points line up across methods
    drawn = np.empty((n_resamples, len(n)), dtype=int)
    for size in np.unique(n):
      members = order[n[order] == size]
      drawn[:, members] = members[(uniforms[size][:, :len(members)] * len(members)).astype(int)]
    indices[method] = drawn
  return indices


def interval(samples: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
  """Percentile interval over axis 0; never interpolates, so infinite draws (bounds) stay infinite."""
  tail = (1.0 - level) / 2.0
  return (np.quantile(samples, tail, axis=0, method="lower"),
          np.quantile(samples, 1.0 - tail, axis=0, method="higher"))
