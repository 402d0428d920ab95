r"""A whole scaling study, resumable: corpus, learning-rate sweep -> rule, grid + fit, controls, report.

  python -m experiments.study --config=configs/sweeps/cpu_study.py --workdir=runs/cpu_study \
      [--results=experiments/results/cpu_study]

The config module's parts `lr`, `grid` and `controls` (configs/sweeps/cpu_study.py) are three
experiments.sweep runs over one corpus:

DIR/data/annotated        the built-in corpus with the config's `corpus` counts, annotated once
DIR/lr_sweep/lr<value>/   one sweep per learning rate (the `lr` part, exponent 0)
DIR/lr_rule.json          the rule fitted to them (ixt_jax.scaling.lr_rule), used by every later run
DIR/runs/, DIR/fits/      the grid and the controls (one runs directory; the fit takes the grid's methods)
--results                 the summaries, lr_rule.json, fits.json, figures and tables.md (experiments.study_report)

Every step skips what is done, so the same command, run again after a crash or a kill, finishes the study.
"""
import json
import sys

from absl import app, flags
from etils import epath

from experiments import study_tables
from experiments.common import prepare_builtin_corpus, run_module
from ixt_jax.data import shards
from experiments import cli

_CONFIG = cli.define_config_file("config", None, "study config (configs/sweeps/cpu_study.py)")
flags.DEFINE_string("workdir", "", "study directory")
flags.DEFINE_string("results", "", "where the report goes ('' = DIR/results)")

LR_RULE = "lr_rule.json"


def config_path() -> str:
  """The config file, without the part: `--config=configs/sweeps/cpu_study.py[:part]`."""
  for arg in sys.argv:
    if arg.startswith("--config="):
      return arg.removeprefix("--config=").split(":")[0]
  raise app.UsageError("--config=FILE is required")


def fit_lr_rule(sweep_root: epath.Path) -> dict:
  lr_runs = [r for lr_dir in sorted(sweep_root.glob("lr*")) for r in study_tables.read_runs(lr_dir / "runs")]
  rule = study_tables.fit_lr_rule(lr_runs)
  print("learning-rate rule: lr = {lr_reference:.4g} * (N / {n_reference})^-{lr_exponent:.3f}".format(**rule))
  for size in rule["sizes"]:
    edge = " (at the edge of the swept range)" if size["at_edge"] else ""
    print(f"  N = {size['n_params']:,}: best lr {size['best_lr']:.4g}{edge}; mean loss by lr {size['mean_loss']}")
  return rule


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  f = flags.FLAGS
  if _CONFIG.value is None or not f.workdir:
    raise app.UsageError("--config and --workdir are required")
  c, root, config_file = _CONFIG.value, epath.Path(f.workdir).absolute(), config_path()
  data = prepare_builtin_corpus(root / "data", c.corpus)
  sweep = lambda part, workdir, *extra: run_module(
      ["experiments.sweep", f"--config={config_file}:{part}", f"--workdir={workdir}", f"--data={data}", *extra])

  for lr in c.lr_sweep.learning_rates:
    sweep("lr", root / "lr_sweep" / f"lr{lr:g}", f"--config.rules.lr_reference={lr}", "--nofit")
  rule_path = root / LR_RULE
  if not rule_path.exists():
    shards.write_json(rule_path, fit_lr_rule(root / "lr_sweep"))
  rule = json.loads(rule_path.read_text())
  rule_args = [f"--config.rules.{k}={rule[k]}" for k in ("lr_reference", "n_reference", "lr_exponent")]

  sweep("grid", root, *rule_args)
  sweep("controls", root, *rule_args, "--nofit")
  run_module(["experiments.study_report", f"--config={config_file}", f"--workdir={root}",
              f"--out={f.results or root / 'results'}"])


if __name__ == "__main__":
  cli.run(main)
