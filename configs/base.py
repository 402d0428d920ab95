"""The run config every stage and sweep starts from: the run config's defaults plus a small-CPU-run
cadence, set by a variant (configs/common.py):

  --config=configs/base.py:method=baseline,size=3m,steps=600,data=DIR[,seed=,batch=,vocab=,seq_len=]

`data` (annotated shards) has no default here: a run names what it trains on.
"""
from configs import common
from ixt_jax.train.config import get_run_config


def get_config(arg=None):
  variant = common.parse_variant(arg)
  c = get_run_config()
  c.method = variant.get("method", "ixt")
  c.data.feedback.placement = "none" if c.method == "baseline" else "prefix"
  c.seed = variant.get("seed", 0)
  c.model.size = variant.get("size", "1m")
  c.train.steps = variant.get("steps", 300)
  c.train.batch_size = variant.get("batch", 16)
  c.train.log_every = 25
  c.train.eval_every = 150
  c.train.checkpoint_every = 100
  c.optimizer.learning_rate = 3e-3
  c.optimizer.warmup_steps = min(30, c.train.steps // 10)
  c.data.seq_len = variant.get("seq_len", 256)
  c.data.vocab.kind = variant.get("vocab", "sentencepiece")
  c.data.vocab.size = 2048
  c.data.train_dirs = [variant["data"]] if "data" in variant else []
  return c
