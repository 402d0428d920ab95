"""The shape of a TPU-pod study (not run in this repository): 125m-3b x 3 IsoFLOP budgets (1e19-1e20
FLOPs) x (IXT, baseline, a quality-token variant), 3 seeds at two grid points: 48 runs, ~1.9e21
training FLOPs.

Point --data at annotated shards on a bucket (a trained tokenizer: add 'data.vocab.model_path=...' to
`overrides`), plan it on one host, and send the launch lines (`--emit=shell`, DIR/runs.tsv) to the
pod's scheduler; each line is one multi-host run. The shuffled-critique and neutral-prefix controls
join `methods` once the data pipeline has knobs for them (each a method name with its own overrides,
like `quality_token` here).

  python -m experiments.sweep --config=configs/sweeps/pod_example.py --workdir=gs://BUCKET/sweep \
      --data=gs://BUCKET/annotated --emit=shell
"""
from configs.sweeps import common


def get_config():
  c = common.get_sweep_config()
  c.seq_len = 2048
  c.methods.quality_token = ("data.feedback.kind=quality_token",)  # the score bucket instead of the critique
  c.sizes = {"125m": {"size": "125m"}, "350m": {"size": "350m"}, "1b": {"size": "1b"}, "3b": {"size": "3b"}}
  c.compute_budgets = (1e19, 3e19, 1e20)
  c.extra_seeds = (1, 2)
  c.extra_seed_points = ("350m/C1e19", "350m/C3e19")
  # lr = 3e-3 (N / 1e8)^-0.3; batch = 256 (N / 1e8)^0.25 rows of 2048 tokens, in multiples of 256 (the
  # data-parallel size, data x fsdp, of a 256-chip slice must divide it).
  c.rules.update({"lr_reference": 3e-3, "n_reference": 1e8, "lr_exponent": 0.3, "batch_reference": 256,
                  "batch_exponent": 0.25, "batch_multiple": 256, "warmup_fraction": 0.02})
  c.log_every = 50
  c.checkpoint_every = 1000
  c.overrides = ("data.vocab.size=32768", "model.compute_dtype=bfloat16", "model.remat=dots",
                 "mesh.data=1", "mesh.fsdp=-1", "train.eval_batch_size=64", "train.microbatches=1")
  c.slurm.directives = ("--time=48:00:00", "--nodes=1", "--gres=gpu:8")
  return c
