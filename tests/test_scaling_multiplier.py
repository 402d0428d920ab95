"""The compute-efficiency multiplier: 1 against itself, 2 against a 2x-compute law, bounds, annotation."""
import numpy as np
import pytest

from ixt_jax.scaling import accuracy
from ixt_jax.scaling import fit
from ixt_jax.scaling import multiplier
from ixt_jax.scaling import synthetic

SIZES = np.geomspace(1e7, 3e8, 4)
BUDGETS = (1e17, 1e18, 1e19)


def _loss_multiplier(methods, **kwargs):
  runs = synthetic.make_runs(SIZES, compute=BUDGETS, methods=methods, seeds=(0, 1), **kwargs)
  fits = fit.fit_sweep(runs, n_bootstrap=100, progress=False)
  name = next(m for m in methods if m != "baseline")
  return fits["multiplier"]["methods"][name]


def test_a_method_against_itself_is_one_within_its_interval():
  result = _loss_multiplier({"baseline": 1.0, "again": 1.0})
  measured = result["eval.loss"]["without_annotation"]["measured"]
  for value, lo, hi in zip(measured["value"], measured["lo"], measured["hi"]):
    assert lo <= 1.0 <= hi and value == pytest.approx(1.0, rel=0.15)


def test_identical_runs_give_exactly_one_because_resamples_are_paired():
  made = synthetic.make_summaries(SIZES, compute=BUDGETS, methods={"baseline": 1.0}, seeds=(0, 1))
  runs = synthetic.summaries.runs_from_summaries(
      {f"{method}/{i}": {**s, "method": method} for method in ("baseline", "twin") for i, s in enumerate(made)})
  measured = fit.fit_sweep(runs, n_bootstrap=50, progress=False)["multiplier"]["methods"]["twin"]["eval.loss"][
      "without_annotation"]["measured"]
  # Every resample fits both methods identically, so the interval collapses onto 1 (to the 1e-3 to which
  # the reference's curve is inverted by interpolation).
  np.testing.assert_allclose([measured["value"], measured["lo"], measured["hi"]], 1.0, rtol=1e-3)


def test_loss_equal_to_the_reference_at_twice_the_compute_is_a_2x_multiplier():
  result = _loss_multiplier({"baseline": 1.0, "ixt": 2.0}, noise=0.002)
  curves = result["eval.loss"]
  measured = curves["without_annotation"]["measured"]
  for value, lo, hi in zip(measured["value"], measured["lo"], measured["hi"]):
    assert lo <= 2.0 <= hi and value == pytest.approx(2.0, rel=0.05)
  extrapolated = curves["without_annotation"]["extrapolation"]
  assert "extrapolation" in extrapolated["label"] and extrapolated["compute"][-1] == pytest.approx(
      multiplier.PAPER_COMPUTE)
  assert curves["with_annotation"] == curves["without_annotation"]
  assert "verifiers, not models" in result["annotation"]


def test_annotation_compute_on_the_method_side_lowers_its_multiplier():
  result = _loss_multiplier({"baseline": 1.0, "ixt": 2.0}, noise=0.002, annotation_flops_per_token=2e7)
  without = np.array(result["eval.loss"]["without_annotation"]["measured"]["value"])
  with_annotation = np.array(result["eval.loss"]["with_annotation"]["measured"]["value"])
  assert np.all(with_annotation < without) and np.all(with_annotation > 1.0)
  assert "adds the annotation_flops of the 'ixt' runs" in result["annotation"]


def test_beyond_the_reference_fitted_maximum_accuracy_is_a_lower_bound():
  log_c_ref = np.log(1e18)
  reference = np.array([[0.5, 0.3, 0.5]] * 3)  # saturates at 0.5 (a point estimate and two resamples)
  method = np.array([[0.7, 0.3, 0.5]] * 3)  # passes 0.5 at about 4e17 FLOPs
  curves = multiplier.multiplier_curves(
      lambda c: accuracy.predict(method, c, log_c_ref), lambda c: accuracy.predict(reference, c, log_c_ref),
      (1e17, 1e19), extrapolate_to=1e20, higher_is_better=True)
  measured = curves["measured"]
  above = accuracy.predict(method, measured["compute"], log_c_ref)[0] >= 0.5
  bounded = np.array([b == ">" for b in measured["bound"]])
  assert above.any() and np.all(bounded[above])  # past the reference's maximum: never a number
  assert not bounded[0]  # early on the reference does catch up, so that is a number
  assert all(b is None or b == ">" for b in curves["extrapolation"]["bound"])
  i = int(np.argmax(above))
  assert multiplier.display(measured["value"][i], measured["bound"][i]).startswith("> ")
  assert np.isinf(measured["hi"][i])


def test_without_the_reference_method_the_multiplier_says_why():
  runs = synthetic.make_runs(SIZES, compute=BUDGETS, methods={"ixt": 1.0}, required_only=True)
  section = fit.fit_sweep(runs, n_bootstrap=10, progress=False)["multiplier"]
  assert "no 'baseline' method" in section["skipped"]
