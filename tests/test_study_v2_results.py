"""The committed study v2 (experiments/results/study_v2): its tables re-derived from the per-run JSON
alone, every arm compute-matched and long enough, 3 seeds, the figures present."""
import json
import math

from etils import epath
import pytest

from experiments import study_v2_report
from ixt_jax import rundir

RESULTS = epath.Path(__file__).parent.parent / "experiments" / "results" / "study_v2"
MIN_STEPS = 100


def _committed() -> dict:
  return json.loads((RESULTS / study_v2_report.STUDY_FILE).read_text())


def _assert_close(derived, committed, path="study"):
  if isinstance(committed, dict):
    assert set(derived) == set(committed), path
    for key in committed:
      _assert_close(derived[key], committed[key], f"{path}.{key}")
  elif isinstance(committed, list):
    assert len(derived) == len(committed), path
    for i, (d, c) in enumerate(zip(derived, committed)):
      _assert_close(d, c, f"{path}[{i}]")
  elif isinstance(committed, float):
    # Means and percentiles of the committed 0/1 judgements (numpy, no BLAS): equal to rounding.
    assert math.isclose(derived, committed, rel_tol=1e-9, abs_tol=1e-12), (path, derived, committed)
  else:
    assert derived == committed, path


def test_tables_and_figures_rederive_from_the_committed_runs(tmp_path):
  committed = _committed()
  derived = json.loads(json.dumps(rundir.json_safe(
      study_v2_report.derive(RESULTS, committed["config"], committed["wall_seconds"]))))
  _assert_close(derived, committed)
  assert (RESULTS / study_v2_report.TABLES_FILE).read_text() == study_v2_report.summary_text(derived) + "\n"
  study_v2_report.write_figures(derived, epath.Path(tmp_path))
  for figure in ("flaw_rates.png", "endpoints.png", "dose_response.png"):
    assert (tmp_path / figure).stat().st_size > 10_000 and (RESULTS / figure).exists()


@pytest.mark.parametrize("stage", sorted(_committed()["stages"]) if (RESULTS / "study.json").exists() else [])
def test_every_arm_of_a_stage_has_the_same_compute_three_seeds_and_enough_steps(stage):
  s = _committed()["stages"][stage]
  compute = {arm: (c["flops"], c["tokens"], c["steps"]) for arm, c in s["compute"].items()}
  assert all(len(flops) == len(tokens) == len(steps) == 1 for flops, tokens, steps in compute.values()), compute
  assert len(set(map(str, compute.values()))) == 1, compute  # equal FLOPs and tokens for every arm
  assert next(iter(compute.values()))[2][0] >= MIN_STEPS
  dose = _committed()["config"]["dose"]
  assert {arm: n for arm, n in s["seeds"].items() if "_flip" not in arm} == {
      arm: 3 for arm in s["seeds"] if "_flip" not in arm}
  assert all(n == len(dose["seeds"]) for arm, n in s["seeds"].items() if "_flip" in arm)
  assert len(list(RESULTS.glob(f"runs/{stage}/*/seed*"))) == sum(s["seeds"].values())


def test_the_headline_endpoints_are_there():
  s1 = _committed()["stages"]["s1"]["endpoints"]
  for arm in ("ixt_quality_token", "ixt_critique"):
    assert set(s1[arm]) == {"delta", "delta_vs_twin", "twin_minus_arm", "arm_minus_baseline", "arm_minus_filtered"}
  assert s1["ixt_giveaway"]["delta"]["value"] > 0  # the positive control reads its critique
  assert set(_committed()["stages"]["mid"]["endpoints"]["ixt_quality_token"]) >= {"delta", "arm_minus_baseline"}
