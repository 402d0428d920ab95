"""Saturating accuracy fits: a known curve recovered, the compute-efficient envelope kept."""
import numpy as np
import pytest

from ixt_jax.scaling import accuracy


def test_recovers_a_saturating_curve():
  log_c = np.log(np.geomspace(1e17, 1e21, 9))
  log_c_ref = log_c.mean()
  true = np.array([[0.8, 0.3, 0.4]])
  acc = accuracy.predict(true, np.exp(log_c), log_c_ref)
  fitted = accuracy.fit(log_c, acc, np.ones_like(acc, dtype=bool), log_c_ref)
  np.testing.assert_allclose(fitted, true, rtol=0.02)


def test_envelope_averages_seeds_and_drops_dominated_points():
  point = np.array([0, 0, 1, 2, 3])  # two seeds of point 0
  compute = np.array([1.0, 1.0, 2.0, 3.0])  # point 1 ties point 0 on compute
  scores = np.array([0.2, 0.4, 0.1, 0.5, np.nan])  # point 3 was never scored
  mean, keep = accuracy.envelope(point, compute, scores, np.arange(5)[None])
  np.testing.assert_allclose(mean[0, :3], [0.3, 0.1, 0.5])
  assert keep[0].tolist() == [True, False, True, False]


def test_accuracy_never_exceeds_one():
  log_c = np.log(np.geomspace(1e17, 1e19, 5))
  acc = np.array([[0.5, 0.7, 0.9, 0.99, 1.0]])
  a_max = accuracy.fit(log_c, acc, np.ones_like(acc, dtype=bool), log_c.mean())[0, 0]
  assert a_max == pytest.approx(1.0)
