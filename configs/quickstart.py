"""The quickstart run: a ~1M-parameter model on the built-in corpus, minutes on a laptop CPU.

Variants (big_vision style): `--config=configs/quickstart.py:method=baseline,size=3m,steps=600`
(`data=DIR` points at annotated shards, default runs/quickstart/annotated; `vocab=byte` skips
training a SentencePiece model).
"""
from ixt_jax.errors import ConfigError
from ixt_jax.train.config import get_run_config

VARIANT_KEYS = {"method": str, "size": str, "steps": int, "seed": int, "batch": int, "data": str,
                "vocab": str, "seq_len": int}


def parse_variant(arg: str | None) -> dict:
  """'a=1,b=x' -> {'a': 1, 'b': 'x'}, typed and checked against VARIANT_KEYS."""
  variant = {}
  for item in filter(None, (arg or "").split(",")):
    key, _, value = item.partition("=")
    if key not in VARIANT_KEYS:
      raise ConfigError(f"config variant {key!r}: expected one of {sorted(VARIANT_KEYS)}")
    variant[key] = VARIANT_KEYS[key](value)
  return variant


def get_config(arg: str | None = None):
  variant = parse_variant(arg)
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
  c.data.train_dirs = [variant.get("data", "runs/quickstart/annotated")]
  return c
