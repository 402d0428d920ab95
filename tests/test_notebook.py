"""notebooks/analysis.ipynb runs headless top to bottom on a tiny synthetic sweep."""
import json
import pathlib

import nbclient
import nbformat
import numpy as np

from ixt_jax.scaling import synthetic

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "analysis.ipynb"


def test_analysis_notebook_fits_plots_and_writes(tmp_path, monkeypatch):
  sweep, out = tmp_path / "sweep", tmp_path / "out"
  synthetic.write_sweep(str(sweep), synthetic.make_summaries(
      np.geomspace(1e7, 3e8, 4), compute=(1e17, 1e18, 1e19), accuracy_max={"baseline": 0.6, "ixt": 0.65}))
  # The parameter cell reads these; the kernel inherits this process's environment.
  monkeypatch.setenv("IXT_SWEEP_DIR", str(sweep))
  monkeypatch.setenv("IXT_FIT_OUT", str(out))
  monkeypatch.setenv("IXT_BOOTSTRAP", "30")
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                          resources={"metadata": {"path": str(tmp_path)}}).execute()

  fits = json.loads((out / "fits.json").read_text())
  assert set(fits) == {"methods", "multiplier"}
  assert (out / "multiplier.pdf").exists() and (out / "accuracy_vs_compute.png").exists()
  outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
  assert sum("image/png" in o.get("data", {}) for o in outputs) == 4  # every figure shown inline
  text = "".join(o.get("text", "") for o in outputs)
  assert "Compute multiplier vs 'baseline'" in text
