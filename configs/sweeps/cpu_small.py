"""A real CPU study: 3 ladder sizes (1m, 3m, 8m) x 3 IsoFLOP budgets x (IXT, baseline), 3 seeds at two
grid points: 26 runs, ~3.8e14 training FLOPs (about 3-4 hours at ~3e10 FLOP/s, a laptop CPU).

Budgets 4e12..3.6e13 FLOPs give the 8m model 41-373 steps and the 1m model 248-2235 steps of 8 x 256
tokens. The built-in corpus holds ~4.5k documents, so the largest 1m runs see it a few times over.

  python -m experiments.sweep --config=configs/sweeps/cpu_small.py --workdir=runs/sweep_small [--emit=slurm]
"""
from configs.sweeps import common


def get_config():
  c = common.get_sweep_config()
  c.sizes = {"1m": {"size": "1m"}, "3m": {"size": "3m"}, "8m": {"size": "8m"}}
  c.compute_budgets = (4e12, 1.2e13, 3.6e13)
  c.seeds = (0,)
  c.extra_seeds = (1, 2)  # seed noise next to the effect, at two budgets of the middle size
  c.extra_seed_points = ("3m/C4e12", "3m/C1.2e13")
  # The quickstart's 3e-3 at ~1M parameters, decaying gently with size; 8 rows at every size (on a CPU
  # more rows only trade steps for tokens per step). Not yet fitted to a learning-rate sweep.
  c.rules.update({"lr_reference": 3e-3, "n_reference": 1e6, "lr_exponent": 0.25, "batch_reference": 8})
  c.fit.bootstrap = 1000
  c.slurm.directives = ("--time=02:00:00", "--cpus-per-task=4", "--mem=8G")
  return c
