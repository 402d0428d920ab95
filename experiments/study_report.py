r"""The report of a finished study (experiments.study): summaries, fits, figures and tables, in one folder.

  python -m experiments.study_report --config=configs/sweeps/cpu_study.py --workdir=runs/cpu_study \
      --out=experiments/results/cpu_study

OUT/runs/<run>/summary.json            every grid and control run (what the fits read)
OUT/lr_sweep/lr<value>/<run>/          the learning-rate sweep's summaries and config.json (the lr)
OUT/lr_rule.json                       the rule fitted to them
OUT/fits.json, OUT/*.png|pdf           the grid's fits (N non-embedding) and their figures: re-fitting
                                       OUT/runs gives fits.json again (tests/test_study_results.py)
OUT/fits_total_params.json             the same fit with N = all parameters (small scale moves exponents)
OUT/fits_unconditioned.json            the fit of the loss with no critique at inference (each extra fit
                                       says what it is in its "label"; see study_tables.EXTRA_FITS)
OUT/multiplier, seed_noise, controls,  the study's own figures (the multiplier: each arm under its own
    lr_sweep                           condition, over the measured compute range)
OUT/tables.md                          every table the README's Results section shows

With --from_committed, only the tables and figures are rebuilt, from OUT's summaries and fits files
(nothing copied, nothing fitted):

  python -m experiments.study_report --config=configs/sweeps/cpu_study.py --out=experiments/results/cpu_study \
      --from_committed
"""
import json
import shutil

from absl import app, flags
from etils import epath

from experiments import study_tables
from ixt_jax import rundir
from ixt_jax.scaling import outputs, plots, summaries
from experiments import cli

_CONFIG = cli.define_config_file("config", None, "study config (configs/sweeps/cpu_study.py)")
flags.DEFINE_string("workdir", "", "the study directory experiments.study wrote")
flags.DEFINE_string("out", "", "where the report goes")
flags.DEFINE_bool("from_committed", False, "rebuild only the tables and figures from OUT's summaries and fits")

KEPT_FILES = (rundir.SUMMARY, rundir.CONFIG)


def copy_runs(source: epath.Path, dest: epath.Path) -> int:
  """Copies each finished run's summary and config (no checkpoints, no logs); returns how many."""
  count = 0
  for summary in sorted(source.glob(f"*/{rundir.SUMMARY}")):
    run = dest / summary.parent.name
    run.mkdir(parents=True, exist_ok=True)
    for name in KEPT_FILES:
      shutil.copyfile(summary.parent / name, run / name)
    count += 1
  return count


def fit_report(c, root: epath.Path, out: epath.Path) -> None:
  """Copies the study's runs into OUT and writes their fits (fits.json and EXTRA_FITS)."""
  copied = copy_runs(root / "runs", out / "runs")
  for lr_dir in sorted((root / "lr_sweep").glob("lr*")):
    copied += copy_runs(lr_dir / "runs", out / "lr_sweep" / lr_dir.name)
  shutil.copyfile(root / "lr_rule.json", out / "lr_rule.json")
  print(f"copied {copied} runs into {out}")
  outputs.write_fits(study_tables.fit_study(c, str(out / "runs"))[0], str(out))
  for name, (kwargs, label) in study_tables.EXTRA_FITS.items():
    fits = outputs.jsonable(study_tables.fit_study(c, str(out / "runs"), **kwargs)[0])
    (out / name).write_text(json.dumps({"label": label, **fits}, indent=2))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  f = flags.FLAGS
  c, out = _CONFIG.value, epath.Path(f.out)
  if not f.from_committed:
    fit_report(c, epath.Path(f.workdir), out)
  # Tables and figures read the written files, so a rebuild from the committed ones gives the same.
  fits = json.loads((out / outputs.FITS).read_text())
  extra = {name: json.loads((out / name).read_text()) for name in study_tables.EXTRA_FITS}
  runs = summaries.load_runs(str(out / "runs"))
  tables = study_tables.Study.load(out, c)
  # The study's multiplier figure (each arm under its own condition) replaces the generic one.
  outputs.save_figures({**plots.make_figures(fits, runs),
                        **tables.figures(fits, extra["fits_unconditioned.json"])}, str(out))
  (out / "tables.md").write_text(tables.markdown(fits, *extra.values()))
  print((out / "tables.md").read_text())


if __name__ == "__main__":
  cli.run(main)
