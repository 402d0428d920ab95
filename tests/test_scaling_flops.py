"""FLOPs per token from the runs, and the exact compute-optimal frontier built on it."""
import numpy as np
import pytest

from ixt_jax.scaling import flops
from ixt_jax.scaling import frontier
from ixt_jax.scaling import parametric
from ixt_jax.scaling import synthetic

SIZES = np.array([1e7, 3e7, 1e8, 3e8])


def test_cost_per_token_is_measured_per_size_and_log_log_between():
  cost = synthetic.flops_per_token(SIZES)
  tokens = np.array([1e9, 2e9, 3e9, 4e9])
  table = flops.CostPerToken.from_runs(np.repeat(SIZES, 2), np.repeat(cost * tokens, 2), np.repeat(tokens, 2))
  np.testing.assert_allclose(table(SIZES), cost, rtol=1e-12)
  middle = np.sqrt(SIZES[1] * SIZES[2])  # log-midpoint: the geometric mean of the neighbours' costs
  np.testing.assert_allclose(table(middle), np.sqrt(cost[1] * cost[2]), rtol=1e-12)
  np.testing.assert_allclose(table(SIZES[-1] * 10), cost[-1] * 10, rtol=1e-12)  # beyond: proportional to N
  slope = np.log(cost[1] / cost[0]) / np.log(SIZES[1] / SIZES[0])  # below: the first segment goes on
  np.testing.assert_allclose(table(SIZES[0] / 10), cost[0] / 10**slope, rtol=1e-12)
  assert not np.allclose(table(SIZES), 6 * SIZES, rtol=0.1)  # attention and embeddings are counted
  with pytest.raises(ValueError, match="at least 2 model sizes"):
    flops.CostPerToken.from_runs(SIZES[:1], cost[:1], tokens[:1])


def test_annotation_is_a_constant_offset_per_token():
  tokens = np.full(4, 1e9)
  cost = synthetic.flops_per_token(SIZES)
  table = flops.CostPerToken.from_runs(SIZES, cost * tokens, tokens, annotation_flops=tokens * 2e7)
  for n in (SIZES[0] / 10, SIZES[1], 1e12):
    np.testing.assert_allclose(table(n), flops.CostPerToken(SIZES, cost)(n) + 2e7, rtol=1e-12)


@pytest.mark.parametrize("offset", [0.0, 3e7])
def test_frontier_is_the_minimum_over_model_size(offset):
  cost = flops.CostPerToken(SIZES, synthetic.flops_per_token(SIZES), offset)
  laws = np.stack([parametric.from_named(**synthetic.CHINCHILLA), parametric.from_named(1.5, 300, 500, 0.3, 0.35)])
  compute = np.geomspace(1e15, 1e24, 7)
  log_loss, log_n = frontier.optimal(laws, cost, compute)
  log_n_grid = np.linspace(np.log(1e4), np.log(1e14), 20001)
  for b, law in enumerate(laws):
    for m, c in enumerate(compute):
      brute = parametric.log_loss(law, log_n_grid, np.log(c) - cost.log_cost(log_n_grid))
      assert log_loss[b, m] <= brute.min() + 1e-12
      np.testing.assert_allclose(log_loss[b, m], brute.min(), atol=1e-6)
      np.testing.assert_allclose(log_n[b, m], log_n_grid[np.argmin(brute)], atol=2e-3)
