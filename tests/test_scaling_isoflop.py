"""Chinchilla approach 2: budgets grouped, a known optimum recovered, thin budgets named."""
import numpy as np
import pytest

from ixt_jax.scaling import flops
from ixt_jax.scaling import isoflop

COST = flops.CostPerToken(np.array([1e6, 1e10]), np.array([6e6, 6e10]))  # exactly 6N


def _profiles(compute, jitter=0.0):
  """Runs whose loss is an exact parabola in log N around N_opt = 0.1 C^0.5, FLOPs jittered within a budget."""
  n, c, loss = [], [], []
  for i, budget in enumerate(compute):
    n_opt = 0.1 * budget**0.5
    for size in n_opt * np.geomspace(1 / 8, 8, 5):
      n.append(size)
      c.append(budget * (1 + jitter * ((len(n) % 3) - 1)))
      loss.append(4.0 - 0.3 * i + 0.05 * np.log(size / n_opt)**2)
  return np.array(n), np.array(c), np.array(loss)


def test_recovers_a_known_optimum_from_jittered_budgets():
  n, c, loss = _profiles([1e17, 1e18, 1e19, 1e20], jitter=0.03)
  result = isoflop.fit_isoflop(n, c, loss, np.full(len(n), None), COST, "baseline")
  assert len(result["budgets"]) == 4 and all(b["bracketed"] for b in result["budgets"])
  assert result["n_opt"]["exponent"] == pytest.approx(0.5, abs=0.01)
  assert result["n_opt"]["coefficient"] == pytest.approx(0.1, rel=0.3)
  assert result["d_opt"]["exponent"] == pytest.approx(0.5, abs=0.01)  # D_opt = C / 6 N_opt
  for budget in result["budgets"]:
    assert budget["n_opt"] == pytest.approx(0.1 * budget["compute"]**0.5, rel=0.03)


def test_budget_tags_group_runs_whatever_their_flops():
  n, c, loss = _profiles([1e17, 1e18])
  tags = np.array(["small"] * 5 + ["large"] * 5, dtype=object)
  group, compute, labels, how = isoflop.group_budgets(c * np.linspace(0.5, 1.5, 10), tags)
  assert labels == ["small", "large"] and "tag" in how
  np.testing.assert_array_equal(group, [0] * 5 + [1] * 5)


def test_a_budget_with_a_single_size_is_named():
  n, c, loss = _profiles([1e17, 1e18])
  n, c, loss = np.append(n, 1e9), np.append(c, 5e19), np.append(loss, 3.0)
  with pytest.raises(ValueError, match=r"budget 5e\+19 FLOPs has 1 model size") as error:
    isoflop.fit_isoflop(n, c, loss, np.full(len(n), None), COST, "ixt")
  assert "'ixt'" in str(error.value) and "at least 3 model sizes" in str(error.value)


def test_an_optimum_counts_only_where_the_measured_sizes_bracket_it():
  n, c, loss = _profiles([1e17, 1e18])
  result = isoflop.fit_isoflop(n, c, loss, np.full(len(n), None), COST, "baseline")
  first = slice(0, 5)
  assert isoflop.unbracketed(result["budgets"][0], n[first], loss[first]) is None
  # Sizes all above the optimum: the best measured one is the smallest, whatever the parabola says.
  assert "is the smallest" in isoflop.unbracketed(result["budgets"][0], n[first][2:], loss[first][2:])
  assert "is the largest" in isoflop.unbracketed(result["budgets"][0], n[first][:3], loss[first][:3])
  outside = {**result["budgets"][0], "bracketed": False}
  assert "outside the measured sizes" in isoflop.unbracketed(outside, n[first], loss[first])
