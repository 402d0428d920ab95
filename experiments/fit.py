r"""Fits scaling laws to a finished sweep and writes `fits.json` plus paper figures (PNG and PDF).

  python -m experiments.fit --sweep_dir=DIR --out=DIR [--metric=eval.loss] [--n_kind=non_embedding] \
      [--bootstrap=1000] [--seed=0] [--reference=baseline] [--methods=baseline,ixt]

DIR may be local or a bucket (`gs://...`, with gcsfs installed). Every `summary.json` at any depth
under --sweep_dir is one run.
"""
import sys

from absl import flags

from ixt_jax.scaling import fit
from ixt_jax.scaling import multiplier
from ixt_jax.scaling import outputs
from ixt_jax.scaling import plots
from ixt_jax.scaling import report
from ixt_jax.scaling import summaries
from experiments import cli

_SWEEP_DIR = flags.DEFINE_string("sweep_dir", None, "Directory holding the runs' summary.json files (any depth).",
                                 required=True)
_OUT = flags.DEFINE_string("out", None, "Directory for fits.json and the figures.", required=True)
_METRIC = flags.DEFINE_string("metric", "eval.loss", "Dotted path of the fitted loss inside summary.json.")
_N_KIND = flags.DEFINE_enum("n_kind", "non_embedding", summaries.N_KINDS, "Which parameter count is N.")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Paired bootstrap resamples for the intervals.", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the bootstrap draws.")
_REFERENCE = flags.DEFINE_string("reference", "baseline", "Method every other method's multiplier is against.")
_METHODS = flags.DEFINE_list("methods", [], "Fit only these methods (default: all); leaves out, say, a control run "
                             "at a single grid point, which the parametric law cannot be fitted to.")
_EXTRAPOLATE_TO = flags.DEFINE_float("extrapolate_to", multiplier.PAPER_COMPUTE,
                                     "Compute (FLOPs) the multiplier is extrapolated to, labelled as extrapolation.")


def main(argv):
  del argv
  try:
    runs = summaries.load_runs(_SWEEP_DIR.value, metric=_METRIC.value)
    print(f"{len(runs)} runs of {runs.methods} under {_SWEEP_DIR.value}")
    fits = fit.fit_sweep(runs, n_kind=_N_KIND.value, n_bootstrap=_BOOTSTRAP.value, seed=_SEED.value,
                         reference=_REFERENCE.value, extrapolate_to=_EXTRAPOLATE_TO.value, methods=_METHODS.value)
  except (FileNotFoundError, ValueError) as e:  # the sweep, not the code, is at fault: say what, not where
    sys.exit(f"experiments.fit: {e}")
  written = [outputs.write_fits(fits, _OUT.value)]
  written += outputs.save_figures(plots.make_figures(fits, runs), _OUT.value)
  print(report.format_fits(fits))
  print("wrote " + ", ".join(written))


if __name__ == "__main__":
  cli.run(main)
