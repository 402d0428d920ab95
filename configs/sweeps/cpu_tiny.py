"""The smallest sweep the fit accepts: 3 sizes x 2 IsoFLOP budgets x (IXT, baseline), 12 runs in minutes.

Toy shapes (2 layers, d_model 32-64) on the byte vocabulary, 7-60 steps each: a test of the sweep
machinery end to end (tests/test_sweep.py), not a study.

  python -m experiments.sweep --config=configs/sweeps/cpu_tiny.py --workdir=runs/sweep_tiny [--data=DIR]
"""
from configs.sweeps import common


def _tiny(d_model: int) -> dict:
  return {"size": "1m", "d_model": d_model, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2,
          "head_dim": d_model // 4, "d_ff": 2 * d_model}


def get_config():
  c = common.get_sweep_config()
  c.vocab = "byte"
  c.seq_len = 128
  c.sizes = {"t32": _tiny(32), "t48": _tiny(48), "t64": _tiny(64)}
  c.compute_budgets = (5.3e9, 1.6e10)  # whole steps meet both within 1% at every size
  c.rules.update({"lr_reference": 1e-2, "n_reference": 3e4, "batch_reference": 8})
  c.overrides = ("data.heldout.fraction=0.1",  # a clean held-out split even in a few hundred documents
                 "train.eval_batch_size=8",
                 "eval.tasks=",  # the synthetic corpus has no task ground truth
                 "train.peak_flops_per_device=1e12")  # no timed matmul at start-up: MFU is meaningless here
  c.fit.bootstrap = 50  # enough to exercise the intervals in a test
  return c
