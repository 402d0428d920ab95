"""One training run: python -m experiments.launch --config=configs/quickstart.py [--config.a.b=v] --workdir=DIR

A workdir that holds a checkpoint resumes from it; a finished one (summary.json present) is skipped
unless --rerun.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

from absl import app, flags, logging  # pylint: disable=g-import-not-at-top
from etils import epath

from ixt_jax import rundir
from ixt_jax.evaluate.run_eval import run_positive_critique
from ixt_jax.evaluate.tasks import make_task_evaluator
from ixt_jax.train.loop import train_and_evaluate
from experiments import cli

_CONFIG = cli.define_config_file("config", "configs/quickstart.py", "run config file", lock_config=True)
flags.DEFINE_string("workdir", "", "run directory (local or gs://); default runs/<method>-<size>-s<seed>")
flags.DEFINE_bool("rerun", False, "evaluate a finished run again instead of skipping it")


def default_workdir(c) -> str:
  return os.path.join("runs", f"{c.method}-{c.model.size}-s{c.seed}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:  # orbax logs every save at INFO; --verbosity=0 shows it
    logging.set_verbosity(logging.WARNING)
  c = _CONFIG.value
  workdir = epath.Path(flags.FLAGS.workdir or default_workdir(c))
  if rundir.is_finished(workdir) and not flags.FLAGS.rerun:
    print(f"{workdir} is finished ({rundir.SUMMARY} present); --rerun to evaluate it again")
    return
  train_and_evaluate(c, workdir, run_positive_critique(c), make_task_evaluator)


if __name__ == "__main__":
  cli.run(main)
