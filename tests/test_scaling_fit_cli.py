"""experiments.fit end to end on summaries that carry only the required keys (another code base's)."""
import json
import pathlib
import subprocess
import sys

import numpy as np

from ixt_jax.scaling import fit
from ixt_jax.scaling import parametric
from ixt_jax.scaling import summaries
from ixt_jax.scaling import synthetic

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_required_keys_only_give_fits_json_in_the_contract_shape_and_figures(tmp_path):
  sweep, out = tmp_path / "sweep", tmp_path / "out"
  synthetic.write_sweep(str(sweep), synthetic.make_summaries(
      np.geomspace(1e7, 3e8, 4), compute=(1e17, 1e18, 1e19), required_only=True))
  done = subprocess.run(
      [sys.executable, "-m", "experiments.fit", f"--sweep_dir={sweep}", f"--out={out}", "--bootstrap=30"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert done.returncode == 0, done.stderr[-3000:]

  fits = json.loads((out / "fits.json").read_text())
  assert set(fits) == {"methods", "multiplier"}
  assert set(fits["methods"]) == {"baseline", "ixt"}
  for method in fits["methods"].values():
    law = method["parametric"]
    for name in parametric.PARAMS:
      assert isinstance(law[name], float)
      lo, hi = law["ci"][name]
      assert lo <= law[name] <= hi
    assert isinstance(method["isoflop"], dict) and "n_opt" in method["isoflop"]
    assert all("skipped" in task for task in method["accuracy"].values())  # no task scores in these summaries
  assert "ixt" in fits["multiplier"]["methods"]
  sweep_info = fits["multiplier"]["sweep"]
  assert sweep_info["n_kind"] == "non_embedding" and len(sweep_info["defaults"]) == 3

  for figure in ("loss_vs_compute", "isoflop", "multiplier"):
    for fmt in ("png", "pdf"):
      assert (out / f"{figure}.{fmt}").stat().st_size > 1000
  assert not (out / "accuracy_vs_compute.png").exists()
  assert "Compute multiplier vs 'baseline'" in done.stdout


def test_a_thin_control_stops_the_fit_with_a_message_unless_left_out(tmp_path):
  grid = synthetic.make_summaries(np.geomspace(1e7, 3e8, 4), compute=(1e17, 1e18), required_only=True)
  control = synthetic.make_summaries([1e8], compute=(1e18,), methods={"shuffled": 2.0}, required_only=True)
  synthetic.write_sweep(str(tmp_path), grid + control)
  done = subprocess.run([sys.executable, "-m", "experiments.fit", f"--sweep_dir={tmp_path}", f"--out={tmp_path}"],
                        cwd=REPO, capture_output=True, text=True, check=False)
  assert done.returncode != 0 and "Traceback" not in done.stderr
  assert "parametric fit of 'shuffled' needs at least 3 model sizes" in done.stderr
  runs = summaries.load_runs(str(tmp_path))
  fits = fit.fit_sweep(runs, n_bootstrap=10, methods=["baseline", "ixt"], progress=False)
  assert set(fits["methods"]) == {"baseline", "ixt"} and fits["multiplier"]["sweep"]["runs"] == len(grid)
