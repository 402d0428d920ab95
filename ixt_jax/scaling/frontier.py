"""The compute-optimal frontier of a fitted law: L*(C) = min over N of L(N, C / cost(N)).

On segment j of the cost (flops.CostPerToken) the loss is, in u = log N,
E + A e^{-alpha u} + B C^{-beta} (k_j e^{s_j u} + offset)^beta: convex, so its minimum over the
segment is its stationary point clipped into the segment, and the frontier is the best segment
(no grid over N). Without an offset the stationary point has a closed form; with one (annotation
compute), it is found by bisecting on the sign of the derivative. Batched over laws, so bootstrap
resamples cost one array expression.
"""
from __future__ import annotations

import numpy as np

from ixt_jax.scaling import flops
from ixt_jax.scaling import parametric

# The frontier's N is searched within these bounds; beyond them a law says nothing useful.
LOG_N_RANGE = (np.log(1e3), np.log(1e16))
BISECTION_STEPS = 60  # halves the widest segment (~30 in log N) to below 1e-16


def optimal(theta: np.ndarray, cost: flops.CostPerToken, compute: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(log L*, log N*) of laws theta[B, 5] at each compute [M], both shaped [B, M]."""
  lo, hi, log_k, slope = cost.segments()
  lo, hi = np.clip(lo, *LOG_N_RANGE), np.clip(hi, *LOG_N_RANGE)
  theta = np.asarray(theta)
  # Laws [B, 1, 1] against compute [M, 1] and segments [S].
  log_a, log_b, alpha, beta = (theta[:, None, None, i] for i in range(1, 5))
  log_c = np.log(np.asarray(compute, dtype=float))[:, None]
  with np.errstate(divide="ignore", invalid="ignore"):  # alpha, beta or slope <= 0: the optimum is an end
    log_alpha_a, log_beta_b_s = np.log(alpha) + log_a, np.log(beta) + log_b + np.log(slope)
    if cost.offset:
      def rising(u):  # sign of dL/du: the B term's growth against the A term's fall, in logs
        log_cost = flops.add_offset(log_k + slope * u, cost.offset)
        return log_beta_b_s + beta * (log_cost - log_c) + log_k + slope * u - log_cost > log_alpha_a - alpha * u
      left, right = np.broadcast_arrays(lo, hi, log_a + log_c)[:2]  # a bracket per law, compute and segment
      for _ in range(BISECTION_STEPS):
        middle = (left + right) / 2
        up = rising(middle)
        left, right = np.where(up, left, middle), np.where(up, middle, right)
      log_n = (left + right) / 2
    else:
      stationary = (log_alpha_a - log_beta_b_s - beta * (log_k - log_c)) / (alpha + beta * slope)
      log_n = np.clip(np.where(np.isnan(stationary), np.inf, stationary), lo, hi)  # NaN: no stationary point
  log_d = log_c - flops.add_offset(log_k + slope * log_n, cost.offset)
  log_loss = parametric.log_loss(theta[:, None, :], log_n, log_d)
  best = np.argmin(log_loss, axis=-1)[..., None]
  return (np.take_along_axis(log_loss, best, -1)[..., 0], np.take_along_axis(log_n, best, -1)[..., 0])
