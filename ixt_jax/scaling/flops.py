"""Training FLOPs per token as a function of model size, read off the runs themselves.

Compute frontiers need C(N, D) = cost(N) * D for any N, not only the sizes trained. `6 N` is wrong at
small scale (attention, the output projection and padding all cost compute), so the cost of each
size is measured as flops / tokens from its runs and interpolated linearly in log-log between sizes;
beyond the smallest and largest size the end segments are extended (an extrapolation).
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class CostPerToken:
  """Piecewise power law through (N_i, cost_i): cost(N) = k_j N^s_j on segment j."""
  n: np.ndarray  # sizes, ascending
  cost: np.ndarray  # FLOPs per token of each size

  @classmethod
  def from_runs(cls, n: np.ndarray, flops: np.ndarray, tokens: np.ndarray) -> CostPerToken:
    """The median FLOPs per token of each size (runs of one size should all agree)."""
    sizes = np.unique(n)
    if len(sizes) < 2:
      raise ValueError(f"FLOPs per token vs N needs at least 2 model sizes to interpolate; the runs have {len(sizes)}")
    per_token = flops / tokens
    return cls(n=sizes, cost=np.array([np.median(per_token[n == size]) for size in sizes]))

  def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, log_k, slope) per segment in u = log N; the end segments reach -inf and +inf."""
    log_n, log_c = np.log(self.n), np.log(self.cost)
    slope = np.diff(log_c) / np.diff(log_n)
    log_k = log_c[:-1] - slope * log_n[:-1]
    lo = np.concatenate([[-np.inf], log_n[1:-1]])
    hi = np.concatenate([log_n[1:-1], [np.inf]])
    return lo, hi, log_k, slope

  def log_cost(self, log_n: np.ndarray) -> np.ndarray:
    _, hi, log_k, slope = self.segments()
    segment = np.clip(np.searchsorted(hi, log_n), 0, len(hi) - 1)  # first segment whose end is >= u
    return log_k[segment] + slope[segment] * log_n

  def __call__(self, n: np.ndarray) -> np.ndarray:
    return np.exp(self.log_cost(np.log(n)))

  def to_json(self) -> dict:
    return {"n": self.n.tolist(), "flops_per_token": self.cost.tolist(),
            "between_sizes": "linear in log(flops/token) vs log N",
            "beyond_sizes": "end segments extended (extrapolation)"}
