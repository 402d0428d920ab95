"""The learning-rate rule: best lr per size from a parabola in log lr, a power law through the sizes."""
import numpy as np
import pytest

from ixt_jax.scaling import lr_rule
from ixt_jax.scaling import summaries


def _sweep(best_lr_at, lrs=(1e-3, 3e-3, 1e-2, 3e-2)):
  """Summaries of a sweep whose loss is a parabola in log lr around best_lr_at(N), two methods."""
  rows, learning_rates = [], []
  for n in (1e5, 1e6):
    for lr in lrs:
      for method, offset in (("baseline", 0.0), ("ixt", 0.1)):
        loss = 3.0 + offset + 0.2 * np.log(lr / best_lr_at(n)) ** 2
        rows.append({"method": method, "n_params": n, "n_params_non_embedding": n, "tokens": 1e7,
                     "flops": 6e7 * n, "eval": {"loss": loss}})
        learning_rates.append(lr)
  return summaries.runs_from_summaries({f"run{i}": r for i, r in enumerate(rows)}), np.array(learning_rates)


def test_rule_recovers_the_optimum_and_its_exponent():
  runs, lrs = _sweep(lambda n: 5e-3 * (n / 1e5) ** -0.3)
  rule = lr_rule.fit_rule(runs, lrs)
  assert rule["n_reference"] == 100_000
  assert rule["lr_reference"] == pytest.approx(5e-3, rel=1e-6)
  assert rule["lr_exponent"] == pytest.approx(0.3, rel=1e-6)
  assert not any(s["at_edge"] for s in rule["sizes"])
  assert rule["sizes"][0]["methods"] == ["baseline", "ixt"]


def test_an_optimum_beyond_the_swept_range_is_clipped_and_flagged():
  best, at_edge = lr_rule.best_learning_rate(np.array([1e-3, 2e-3, 4e-3]), np.array([3.0, 2.9, 2.8]))
  assert best == pytest.approx(4e-3) and at_edge


def test_one_size_or_two_learning_rates_are_refused():
  runs, lrs = _sweep(lambda n: 5e-3)
  one_size = runs.n_params_non_embedding == 1e5
  with pytest.raises(ValueError, match="2 or more sizes"):
    lr_rule.fit_rule(runs.select(one_size), lrs[one_size])
  with pytest.raises(ValueError, match="at least 3 learning rates"):
    lr_rule.best_learning_rate(np.array([1e-3, 2e-3]), np.array([3.0, 2.9]))
