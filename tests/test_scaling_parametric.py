"""Chinchilla approach 3: recovery of a known law, bootstrap coverage, the batched refit, thin sweeps."""
import numpy as np
import pytest

from ixt_jax.scaling import fit
from ixt_jax.scaling import parametric
from ixt_jax.scaling import synthetic


def test_recovers_a_chinchilla_law_with_seed_noise_inside_its_intervals():
  runs = synthetic.make_runs(np.geomspace(1e7, 1e9, 6), tokens=np.geomspace(1e9, 1e11, 6), methods={"baseline": 1.0},
                             seeds=(0, 1, 2), noise=synthetic.SEED_NOISE, noise_seed=0)
  law = fit.fit_sweep(runs, n_bootstrap=200, progress=False)["methods"]["baseline"]["parametric"]
  for name in ("E", "alpha", "beta"):
    assert law[name] == pytest.approx(synthetic.CHINCHILLA[name], rel=0.05), name
  for name, true in synthetic.CHINCHILLA.items():
    lo, hi = law["ci"][name]
    assert lo <= law[name] <= hi and lo <= true <= hi, (name, lo, true, hi)


def test_batched_refit_reaches_the_lbfgs_optimum_of_each_resample():
  n, d = np.meshgrid(np.geomspace(1e7, 1e9, 4), np.geomspace(1e9, 1e11, 4))
  n, d = n.ravel(), d.ravel()
  rng = np.random.default_rng(0)
  loss = synthetic.true_loss(n, d) * np.exp(rng.normal(0, synthetic.SEED_NOISE, n.shape))
  law = parametric.fit_law(n, d, loss)
  rows = rng.integers(0, len(n), (3, len(n)))
  refitted = parametric.refit(law, np.log(n)[rows], np.log(d)[rows], np.log(loss)[rows])
  for row, theta in zip(rows, refitted):
    alone = parametric.fit_law(n[row], d[row], loss[row])
    data = np.log(n[row]), np.log(d[row]), np.log(loss[row])
    assert parametric.objective(theta, *data) <= parametric.objective(alone, *data) * (1 + 1e-6)


@pytest.mark.parametrize("sizes, tokens, missing", [
    ([1e7, 1e8], [1e9, 1e10], "1 more model size"),
    ([1e7, 3e7, 1e8], [1e9], "1 more token budget"),
])
def test_thin_sweeps_stop_saying_what_is_missing(sizes, tokens, missing):
  runs = synthetic.make_runs(sizes, tokens=tokens, methods={"baseline": 1.0}, required_only=True)
  with pytest.raises(ValueError, match=missing) as error:
    fit.fit_sweep(runs, n_bootstrap=10, progress=False)
  assert "'baseline'" in str(error.value)


def test_more_runs_than_parameters_are_required():
  n, d = np.array([1e7, 3e7, 1e8, 1e8]), np.array([1e9, 1e9, 1e9, 1e10])
  with pytest.raises(ValueError, match=r"has 3 size\(s\).*4 run\(s\): add 2 more run\(s\)"):
    parametric.check_coverage(n, d, "ixt")
