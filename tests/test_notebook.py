"""notebooks/analysis.ipynb runs headless top to bottom on the study the repository ships."""
import json
import os
import pathlib

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"


def test_analysis_notebook_fits_the_committed_study_and_leaves_out_thin_methods(tmp_path, monkeypatch):
  out = tmp_path / "out"
  # The parameter cell reads these; the kernel inherits this process's environment. No IXT_SWEEP_DIR:
  # the default is the committed study.
  monkeypatch.delenv("IXT_SWEEP_DIR", raising=False)
  monkeypatch.setenv("IXT_FIT_OUT", str(out))
  monkeypatch.setenv("IXT_BOOTSTRAP", "20")
  # The kernel imports this checkout's ixt_jax (and finds the study beside it).
  monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                          resources={"metadata": {"path": str(tmp_path)}}).execute()

  fits = json.loads((out / "fits.json").read_text())
  assert set(fits["methods"]) == {"baseline", "ixt", "ixt_cooldown"}  # the methods with a full grid
  assert (out / "multiplier.pdf").exists() and (out / "accuracy_vs_compute.png").exists()
  outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
  assert sum("image/png" in o.get("data", {}) for o in outputs) == 4  # every figure shown inline
  text = "".join(o.get("text", "") for o in outputs)
  assert "experiments/results/cpu_study/runs" in text and "Compute multiplier vs 'baseline'" in text
  assert "left out baseline_filtered: parametric fit of 'baseline_filtered' needs at least 3 model sizes" in text
