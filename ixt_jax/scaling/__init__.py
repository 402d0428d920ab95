"""Scaling analysis of a finished sweep: numpy/scipy/matplotlib only, never JAX or the trainer.

Reads every `summary.json` under a sweep directory (`summaries`), measures FLOPs per token per size
(`flops`), fits Chinchilla's parametric law with paired bootstrap intervals (`parametric`,
`bootstrap`), its exact compute-optimal frontier (`frontier`), IsoFLOP profiles (`isoflop`) and
saturating task-accuracy curves (`accuracy`), and the compute-efficiency multiplier of every method
against the baseline (`multiplier`). `fit.fit_sweep` does all of it and returns the `fits.json`
dict; `plots`, `report` and `outputs` draw, print and write it.

  runs = summaries.load_runs("gs://bucket/sweep")
  fits = fit.fit_sweep(runs)
  outputs.write_fits(fits, out_dir); outputs.save_figures(plots.make_figures(fits, runs), out_dir)
"""
import os

# The fits solve thousands of 5x5 problems: an OpenBLAS thread pool only adds hand-off latency
# (L-BFGS-B ran 10x slower on a busy 2-core host). Effective for a BLAS not loaded yet (scipy's).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
