"""The compute-optimal frontier of a fitted law: L*(C) = min over N of L(N, C / cost(N)).

With cost(N) a piecewise power law (flops.CostPerToken), on segment j the loss is
E + A e^{-alpha u} + B (k_j / C)^beta e^{beta s_j u} in u = log N: convex, with one stationary point
in closed form. The frontier is therefore exact (no grid over N): clip each segment's stationary
point into the segment and keep the best segment. Batched over laws, so bootstrap resamples cost
one array expression.
"""
from __future__ import annotations

import numpy as np

from ixt_jax.scaling import flops
from ixt_jax.scaling import parametric

# The frontier's N is searched within these bounds; beyond them a law says nothing useful.
LOG_N_RANGE = (np.log(1e3), np.log(1e16))


def optimal(theta: np.ndarray, cost: flops.CostPerToken, compute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(log L*, log N*) of laws theta[B, 5] at each compute [M], both shaped [B, M]."""
  lo, hi, log_k, slope = cost.segments()
  lo, hi = np.clip(lo, *LOG_N_RANGE), np.clip(hi, *LOG_N_RANGE)
  theta = np.asarray(theta)
  # Laws [B, 1, 1] against compute [M, 1] and segments [S].
  log_a, log_b, alpha, beta = (theta[:, None, None, i] for i in range(1, 5))
  log_c = np.log(np.asarray(compute, dtype=float))[:, None]
  with np.errstate(divide="ignore", invalid="ignore"):  # alpha, beta or slope 0: the optimum is an end
    stationary = (np.log(alpha) + log_a - np.log(beta) - np.log(slope) - log_b - beta * (log_k - log_c)) / (
        alpha + beta * slope)
  # A slope <= 0 (cost falling with N) leaves no stationary point: the loss falls towards the largest N.
  stationary = np.where(np.isnan(stationary), np.inf, stationary)
  log_n = np.clip(stationary, lo, hi)
  log_d = log_c - (log_k + slope * log_n)
  log_loss = parametric.log_loss(theta[:, None, :], log_n, log_d)
  best = np.argmin(log_loss, axis=-1)[..., None]
  return (np.take_along_axis(log_loss, best, -1)[..., 0], np.take_along_axis(log_n, best, -1)[..., 0])
