"""Compute per training token as a function of model size, read off the runs themselves.

Compute frontiers need C(N, D) = cost(N) * D for any N, not only the sizes trained. `6 N` is wrong at
small scale (attention, the output projection and padding all cost compute), so the cost of each
size is measured as flops / tokens from its runs and interpolated linearly in log-log between sizes.
Below the smallest size the first segment extends; above the largest, cost stays proportional to N:
the overheads' share only shrinks as models grow, so this overestimates by at most that share, where
extending the last (flatter) segment would underestimate without bound.

Annotation compute is a constant `offset` per token (the critic's cost does not depend on the
model trained), so it adds to every size, measured or extrapolated, and never changes sign.
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class CostPerToken:
  """cost(N) = k_j N^s_j on segment j through the measured (N_i, cost_i), plus a constant offset."""
  n: np.ndarray  # sizes, ascending
  cost: np.ndarray  # training FLOPs per token of each size
  offset: float = 0.0  # annotation FLOPs per training token

  @classmethod
  def from_runs(cls, n: np.ndarray, flops: np.ndarray, tokens: np.ndarray,
                annotation_flops: np.ndarray | None = None) -> CostPerToken:
    """The median training FLOPs per token of each size, plus the pooled annotation FLOPs per token."""
    sizes = np.unique(n)
    if len(sizes) < 2:
      raise ValueError(f"FLOPs per token vs N needs at least 2 model sizes to interpolate; the runs have {len(sizes)}")
    per_token = flops / tokens
    offset = 0.0 if annotation_flops is None else float(np.sum(annotation_flops) / np.sum(tokens))
    return cls(n=sizes, cost=np.array([np.median(per_token[n == size]) for size in sizes]), offset=offset)

  def segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, log_k, slope) of the power-law part per segment in u = log N; the ends reach -inf and +inf."""
    log_n, log_c = np.log(self.n), np.log(self.cost)
    slope = np.append(np.diff(log_c) / np.diff(log_n), 1.0)  # the last segment starts at the largest size
    log_k = log_c - slope * log_n
    lo = np.concatenate([[-np.inf], log_n[1:]])
    hi = np.concatenate([log_n[1:], [np.inf]])
    return lo, hi, log_k, slope

  def log_cost(self, log_n: np.ndarray) -> np.ndarray:
    _, hi, log_k, slope = self.segments()
    segment = np.searchsorted(hi, log_n)  # the first segment whose end is >= u
    return add_offset(log_k[segment] + slope[segment] * log_n, self.offset)

  def __call__(self, n: np.ndarray) -> np.ndarray:
    return np.exp(self.log_cost(np.log(n)))

  def to_json(self) -> dict:
    return {"n": self.n.tolist(), "flops_per_token": self.cost.tolist(), "annotation_flops_per_token": self.offset,
            "between_sizes": "linear in log(flops/token) vs log N",
            "beyond_sizes": "first segment extended below; proportional to N above (extrapolation)"}


def add_offset(log_power_law: np.ndarray, offset: float) -> np.ndarray:
  """log(e^x + offset), with offset 0 exactly x."""
  return np.logaddexp(log_power_law, np.log(offset)) if offset else log_power_law
