r"""Times the full scaling fit of a synthetic 48-run sweep with 1,000 paired bootstrap resamples.

  python benchmarks/fit.py [--json=PATH]

The sweep is an IsoFLOP grid: 4 sizes x 3 compute budgets x 2 methods (IXT truly worth 2x compute)
x 2 seeds, with task scores. Timed: reading the summaries and every fit, interval and multiplier
(`fit_sweep`); the figures are timed on their own line.
"""
import json
import os
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

from ixt_jax.scaling import fit
from ixt_jax.scaling import plots
from ixt_jax.scaling import summaries
from ixt_jax.scaling import synthetic

_JSON = flags.DEFINE_string("json", None, "Write {runs, bootstrap, seconds} here.")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Paired bootstrap resamples.")

SIZES = np.geomspace(1e7, 3e8, 4)
BUDGETS = (1e17, 1e18, 1e19)


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as sweep_dir:
    synthetic.write_sweep(sweep_dir, synthetic.make_summaries(
        SIZES, compute=BUDGETS, seeds=(0, 1), accuracy_max={"baseline": 0.6, "ixt": 0.65}))
    start = time.perf_counter()
    runs = summaries.load_runs(sweep_dir)
    fits = fit.fit_sweep(runs, n_bootstrap=_BOOTSTRAP.value, progress=False)
    seconds = time.perf_counter() - start
  start = time.perf_counter()
  figures = plots.make_figures(fits, runs)
  for figure in figures.values():
    figure.savefig(os.devnull, format="png", dpi=200)
  plot_seconds = time.perf_counter() - start
  loss = fits["multiplier"]["methods"]["ixt"]["eval.loss"]["without_annotation"]["measured"]
  print(f"{'runs':<28}{len(runs)}")
  print(f"{'bootstrap resamples':<28}{_BOOTSTRAP.value}")
  print(f"{'fit seconds':<28}{seconds:.2f}   (target < 10)")
  print(f"{'figures seconds':<28}{plot_seconds:.2f}   ({len(figures)} figures, PNG)")
  print(f"{'ixt multiplier (true 2)':<28}{loss['value'][0]:.3g} [{loss['lo'][0]:.3g}, {loss['hi'][0]:.3g}] at "
        f"{loss['compute'][0]:.2g} FLOPs, {loss['value'][-1]:.3g} [{loss['lo'][-1]:.3g}, {loss['hi'][-1]:.3g}] at "
        f"{loss['compute'][-1]:.2g} FLOPs")
  if _JSON.value:
    with open(_JSON.value, "w") as f:
      json.dump({"runs": len(runs), "bootstrap": _BOOTSTRAP.value, "seconds": seconds}, f)


if __name__ == "__main__":
  app.run(main)
