r"""The information-use pilot (configs/sweeps/pilot.py): choose the budget the study is sized from.

  nice python -m experiments.pilot --config=configs/sweeps/pilot.py --workdir=runs/pilot \
      [--results=experiments/results/pilot]

DIR/data/corpus, annotated, annotated_giveaway   the actionable corpus, annotated plainly and with
                                                 the give-away critique
DIR/steps<S>/<arm>/                              one run per arm at budget S (steer.json inside)
--results                                        pilot.json (every budget tried, the criteria, rates,
                                                 endpoints, runs/s and samples/s) and the figures

Every step skips what is done (finished runs, sampled runs), so the same command finishes the pilot.
"""
import os

os.environ.setdefault("EPATH_USE_TF", "false")


from absl import app, flags
from etils import epath

from experiments.arms import annotated_dirs, launch_args, shared_vocab
from experiments.common import run_module
from experiments import cli, pilot_report
from ixt_jax import rundir
from ixt_jax.data import shards
from ixt_jax.evaluate import endpoints, steer_set
from ixt_jax.evaluate.steer import SteerSettings

_CONFIG = cli.define_config_file("config", "configs/sweeps/pilot.py", "pilot config")
flags.DEFINE_string("workdir", "runs/pilot", "pilot directory")
flags.DEFINE_string("results", "", "where pilot.json and the figures go ('' = DIR/results)")


def train_arms(c, arms, steps: int, stage: epath.Path, data: dict[str, epath.Path]) -> dict[str, epath.Path]:
  dirs = {}
  for arm in arms:
    annotation, overrides = c.arms[arm]
    dirs[arm] = stage / arm
    run_module(launch_args(arm, overrides, model=c.model, steps=steps, batch=c.batch_size, seq_len=c.seq_len,
                           seed=c.seed, learning_rate=c.learning_rate, data=data[annotation], workdir=dirs[arm],
                           vocab_path=shared_vocab(stage)))
  return dirs


def measure(dirs: dict[str, epath.Path], settings: SteerSettings, c, domains) -> dict:
  runs = []
  for arm, workdir in dirs.items():
    summary = rundir.read_json(rundir.path(workdir, rundir.SUMMARY))
    runs.append({"method": arm, "seed": c.seed, "steer": steer_set.steered(workdir, settings),
                 "train_seconds": summary["wall_seconds"]})
  table = endpoints.Runs(runs)
  per_domain = {d: endpoints.endpoints(table, [d], c.bootstrap) for d in settings.domains}
  return {
      "rates": endpoints.rate_table(table, settings.domains),
      "well_formed": {r["method"]: {k: {d: v["well_formed_rate"] for d, v in by_d.items()}
                                    for k, by_d in r["steer"]["rates"].items()} for r in runs},
      "endpoints": endpoints.endpoints(table, domains, c.bootstrap) if domains else {},
      "endpoints_per_domain": per_domain,
      "flawed_line_loss": endpoints.flawed_line_endpoints(runs, c.bootstrap),
      "domains_used": list(domains),
      "train_seconds": {r["method"]: r["train_seconds"] for r in runs},
      "samples_per_s": {r["method"]: r["steer"]["samples_per_s"] for r in runs},
      "steer_seconds": {r["method"]: r["steer"]["seconds"] for r in runs},
  }


def domains_in_range(rates: dict, c) -> list[str]:
  lo, hi = c.baseline_flaw
  return [d for d, r in rates["baseline"]["none"].items() if r is not None and lo <= r <= hi]


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments {argv[1:]}")
  c, root = _CONFIG.value, epath.Path(flags.FLAGS.workdir).absolute()
  results = epath.Path(flags.FLAGS.results or root / "results")
  data = annotated_dirs(root / "data", c.corpus)
  settings = SteerSettings(domains=tuple(c.domains), prompts=c.prompts, samples=c.samples,
                           max_new_tokens=c.steer_tokens)
  tried = []
  for steps in c.steps:
    stage = root / f"steps{steps}"
    gate = measure(train_arms(c, c.gate_arms, steps, stage, data), settings, c, [])
    used = domains_in_range(gate["rates"], c)
    gate = measure({arm: stage / arm for arm in c.gate_arms}, settings, c, used)
    giveaway = gate["endpoints"].get("ixt_giveaway", {}).get("delta")
    ratio = giveaway["value"] / giveaway["se"] if giveaway and giveaway["se"] else None
    passed = bool(used) and ratio is not None and ratio > c.min_ratio
    entry = {"steps": steps, "domains_used": used, "giveaway_delta_over_se": ratio, "passed": passed}
    print(f"budget {steps} steps: baseline flaw rates {gate['rates']['baseline']['none']}, domains in "
          f"{list(c.baseline_flaw)}: {used}; give-away Delta / SE = {ratio}", flush=True)
    if passed or steps == c.steps[-1]:  # the chosen budget, or the largest: every arm, every endpoint
      dirs = train_arms(c, list(c.arms), steps, stage, data)
      entry["result"] = measure(dirs, settings, c, used)
      tried.append(entry)
      break
    entry["result"] = gate
    tried.append(entry)
  pilot = {"config": c.to_dict(), "budgets": tried, "chosen": next((t["steps"] for t in tried if t["passed"]), None)}
  shards.write_json(results / "pilot.json", pilot)
  pilot_report.write_figures(pilot, results)
  summary = pilot_report.summary_text(pilot)
  (results / "summary.txt").write_text(summary + "\n")
  print(summary, flush=True)


if __name__ == "__main__":
  cli.run(main)
