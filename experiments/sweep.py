r"""Many runs: a grid of sizes x budgets per method and seed, trained here one after another, or written
out as a shell script or a Slurm job array; then the scaling fit.

  python -m experiments.sweep --config=configs/sweeps/cpu_tiny.py --workdir=DIR [--data=DIR] \
      [--emit=shell|slurm] [--config.a.b=value]

DIR/data          the built-in corpus, built and annotated once (unless --data names annotated shards)
DIR/runs.tsv      the plan: one row per run, with its experiments.launch command
DIR/runs/<name>/  each run's workdir (<method>-<size>-<budget>-s<seed>); a finished run is skipped, an
                  interrupted one resumes from its checkpoint, so the same command finishes a sweep
DIR/fits/         fits.json and figures (experiments.fit), once every run has finished
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")

import dataclasses  # pylint: disable=g-import-not-at-top
import subprocess
import sys

from absl import app, flags
from etils import epath
import ml_collections
import tqdm

from configs import common as config_common
from experiments import sweep_scripts
from experiments.common import prepare_builtin_corpus, resolve_launch_config, run_module
from ixt_jax import rundir
from ixt_jax.data import vocab as vocab_lib
from ixt_jax.models.sizes import param_counts, train_flops_per_token
from ixt_jax.scaling import grid
from ixt_jax.train import config as run_config
from experiments import cli


_CONFIG = cli.define_config_file("config", None, "sweep config file (configs/sweeps/*.py)")
flags.DEFINE_string("workdir", "", "sweep directory: data, runs table, run workdirs and fits")
flags.DEFINE_string("data", "", "annotated shards every run trains on ('' = build the built-in corpus in DIR/data)")
flags.DEFINE_enum("emit", None, ["shell", "slurm"], "write DIR/launch.sh or DIR/sweep.sbatch instead of training")
flags.DEFINE_bool("fit", True, "fit the finished sweep when its grid meets the fit's minimums")


@dataclasses.dataclass(frozen=True)
class PlannedRun:
  run: grid.Run
  workdir: epath.Path
  args: list[str]  # `python -m` arguments of its experiments.launch command
  config: ml_collections.ConfigDict | None = None  # what that command resolves to (built here, not parsed back)


def _launch(c, data: str, variant: dict, overrides: list[str]):
  """(the run config, its experiments.launch arguments): one variant and override list gives both."""
  variant = {"data": data, "vocab": c.vocab, "seq_len": c.seq_len, **variant}
  try:
    rc = config_common.apply_overrides(config_common.load_config(c.launch_config, variant), overrides)
  except (KeyError, AttributeError) as e:
    raise ConfigError(f"the launch config {c.launch_config} rejects variant {variant}: {e}") from None
  return rc, [f"--config={c.launch_config}:{config_common.format_variant(variant)}",
              *(f"--config.{o}" for o in overrides)]


def _size_overrides(c, label: str) -> tuple[str, list[str]]:
  """(ladder name, model.* overrides) of a size label."""
  fields = dict(c.sizes[label])
  if "size" not in fields:
    raise ValueError(f"config.sizes.{label}: needs `size`, a name in the model ladder")
  return fields.pop("size"), [f"model.{k}={v}" for k, v in fields.items()]


def _flops_per_token(rc, vocab_size: int) -> tuple[int, dict]:
  """Training FLOPs per row token and parameter counts of a resolved run config, as the trainer counts them."""
  model = run_config.model_config(rc, vocab_size)
  return train_flops_per_token(model, rc.data.seq_len), param_counts(model)


def measure_sizes(c, data: str) -> tuple[list[grid.Size], int]:
  """Each size's FLOPs per token and non-embedding parameters from its resolved launch config; the vocab size."""
  sizes, vocab_size = [], None
  for label in c.sizes:
    ladder, model_overrides = _size_overrides(c, label)
    rc, _ = _launch(c, data, {"size": ladder}, [*model_overrides, *c.overrides])
    if vocab_size is None:  # every run shares the tokenizer (trained once here and cached, if it is trained)
      vocab_size = vocab_lib.load_vocabulary(rc.data).size
    flops_per_token, counts = _flops_per_token(rc, vocab_size)
    sizes.append(grid.Size(label, flops_per_token, counts["non_embedding"]))
  return sizes, vocab_size


def _launch_run(c, run: grid.Run, data: str, workdir: epath.Path):
  """(the run config, its experiments.launch command's arguments)."""
  ladder, model_overrides = _size_overrides(c, run.size)
  variant = {"method": run.method, "size": ladder, "steps": run.steps, "seed": run.seed, "batch": run.batch_size}
  overrides = [
      f"optimizer.learning_rate={run.learning_rate}", f"optimizer.warmup_steps={run.warmup_steps}",
      f"train.log_every={min(run.steps, c.log_every)}", f"train.checkpoint_every={min(run.steps, c.checkpoint_every)}",
      f"train.eval_every={run.steps}", *model_overrides, *c.overrides, *c.methods[run.method]]
  if run.budget is not None:  # summary.json carries it: the fit groups IsoFLOP runs by it
    overrides.append(f"budget={run.budget}")
  rc, args = _launch(c, data, variant, overrides)
  return rc, ["experiments.launch", *args, f"--workdir={workdir}"]


def plan_sweep(c, data: str, root: epath.Path) -> list[PlannedRun]:
  """Every run with its launch command; each command's config is resolved and validated before any compute."""
  sizes, vocab_size = measure_sizes(c, data)
  runs = grid.plan(sizes, list(c.methods), grid.Rules(**c.rules), c.seq_len, token_budgets=c.token_budgets,
                   compute_budgets=c.compute_budgets, seeds=c.seeds, extra_seeds=c.extra_seeds,
                   extra_seed_points=c.extra_seed_points, budget_tolerance=c.budget_tolerance)
  cost = {s.label: s.flops_per_token for s in sizes}
  planned = []
  for run in runs:
    workdir = root / "runs" / run.name
    rc, args = _launch_run(c, run, data, workdir)
    run_config.validate_run_config(rc, n_devices=1, data_parallel=1)
    # Compute-matched only if no override undid the plan (a method's overrides, say, changed the model).
    resolved = (rc.train.steps, rc.train.batch_size, rc.data.seq_len, _flops_per_token(rc, vocab_size)[0])
    if resolved != (run.steps, run.batch_size, c.seq_len, cost[run.size]):
      raise ValueError(f"run {run.name}: its overrides give (steps, batch, row length, FLOPs per token) {resolved}, "
                       f"not the planned {(run.steps, run.batch_size, c.seq_len, cost[run.size])}")
    planned.append(PlannedRun(run, workdir, args, rc))
  return planned


def run_locally(planned: list[PlannedRun]) -> list[str]:
  """Trains every unfinished run in order; returns the names of the runs that failed (the others still run)."""
  failed = []
  finished = sum(rundir.is_finished(p.workdir) for p in planned)
  with tqdm.tqdm(total=len(planned), initial=finished, desc="sweep", unit="run", file=sys.stderr) as bar:
    for p in planned:
      if not rundir.is_finished(p.workdir):
        try:
          run_module(p.args)
        except subprocess.CalledProcessError as e:
          failed.append(f"{p.run.name} (exit status {e.returncode})")
        else:
          if rundir.is_finished(p.workdir):
            bar.update(1)
          else:  # preempted: saved a checkpoint and stopped
            failed.append(f"{p.run.name} (stopped before finishing; run the sweep again to resume it)")
        bar.set_postfix(failed=len(failed))
  return failed


def fit_sweep(c, planned: list[PlannedRun], root: epath.Path) -> None:
  """Runs experiments.fit on this sweep's methods, leaving out those too thin for the parametric law."""
  runs = [p.run for p in planned]
  unfittable = grid.unfittable_methods(runs)
  for reason in unfittable.values():
    print(f"not fitted: {reason}")
  for gap in grid.isoflop_gaps(runs):
    print(f"no IsoFLOP parabola for {gap}")
  methods = [m for m in c.methods if m not in unfittable]
  if not methods:
    return
  # Always named: another sweep (controls, say) may share DIR/runs, and its runs are not this fit's.
  run_module(["experiments.fit", f"--sweep_dir={root / 'runs'}", f"--out={root / 'fits'}",
              f"--bootstrap={c.fit.bootstrap}", f"--methods={','.join(methods)}"])


def _describe(planned: list[PlannedRun]) -> str:
  runs = [p.run for p in planned]
  sizes = {r.size: r for r in sorted(runs, key=lambda r: r.n_params)}
  lines = [f"{len(runs)} runs: {len(sizes)} sizes x {len({r.point.split('/')[1] for r in runs})} budgets x "
           f"{len({r.method for r in runs})} methods, seeds {sorted({r.seed for r in runs})}; "
           f"{sum(r.flops for r in runs):.3g} training FLOPs in all"]
  lines += [f"  {label}: N = {r.n_params:,} non-embedding, batch {r.batch_size}, lr {r.learning_rate:g}"
            for label, r in sizes.items()]
  return "\n".join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  f = flags.FLAGS
  if _CONFIG.value is None or not f.workdir:
    raise app.UsageError("--config and --workdir are required")
  c, root = _CONFIG.value, epath.Path(f.workdir)
  data = f.data or str(prepare_builtin_corpus(root / "data"))
  try:
    planned = plan_sweep(c, data, root)
  except ValueError as e:  # the config, not the code, is at fault: say what, not where
    sys.exit(f"experiments.sweep: {e}")
  print(_describe(planned))
  root.mkdir(parents=True, exist_ok=True)
  sweep_scripts.write_runs_table(root, planned)
  if f.emit == "shell":
    print(sweep_scripts.write_launch_script(root, [sweep_scripts.run_command(p) for p in planned],
                                            sweep_scripts.fit_command(root)))
    return
  if f.emit == "slurm":
    print(sweep_scripts.write_sbatch(root, len(planned), sweep_scripts.fit_command(root), c.slurm.directives,
                                     c.slurm.setup, c.slurm.max_parallel))
    return
  failed = run_locally(planned)
  if failed:
    sys.exit(f"{len(failed)} of {len(planned)} runs failed:\n  " + "\n  ".join(failed))
  if f.fit:
    try:
      fit_sweep(c, planned, root)
    except subprocess.CalledProcessError:
      sys.exit(f"experiments.sweep: every run finished but the fit failed (above); fit again with experiments.fit "
               f"--sweep_dir={root / 'runs'} --out={root / 'fits'}")


if __name__ == "__main__":
  cli.run(main)
