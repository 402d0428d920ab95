"""Forward+backward throughput and MFU of the transformer on this machine.

MFU is measured against a large float32 matmul timed in the same run (the practical ceiling of
this hardware), counting (6 x matmul parameters incl. the output projection + 12 x layers x seq x
d_attn) FLOPs per token (`ixt_jax.models.sizes.train_flops_per_token`).

  python benchmarks/train_step.py [--sizes=1m,8m,d512] [--batch=8] [--seq_len=256] [--json=PATH]
"""
from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
from absl import app, flags
from flax import nnx

from ixt_jax.models import Transformer, model_config, train_flops_per_token
from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy

flags.DEFINE_list("sizes", ["1m", "8m", "20m", "d512"], "ladder sizes to time")
flags.DEFINE_integer("batch", 8, "rows per step")
flags.DEFINE_integer("seq_len", 256, "tokens per row")
flags.DEFINE_string("dtype", "float32", "compute dtype")
flags.DEFINE_integer("matmul_size", 4096, "side of the square matmul that sets the ceiling")
flags.DEFINE_string("json", "", "also write the figures here")


def _time(fn, *args, repeats: int, warmup: int = 2) -> float:
  """Median seconds of `fn(*args)` after warm-up (compile excluded)."""
  for _ in range(warmup):
    jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return sorted(times)[len(times) // 2]


def matmul_gflops(n: int, dtype=jnp.float32) -> float:
  a = jax.random.normal(jax.random.key(0), (n, n), dtype)
  b = jax.random.normal(jax.random.key(1), (n, n), dtype)
  seconds = _time(jax.jit(jnp.matmul), a, b, repeats=5)
  return 2 * n ** 3 / seconds / 1e9


def measure_tokens_per_s(size: str, batch: int, seq_len: int, dtype: str = "float32", vocab_size: int | None = None) -> float:
  """Tokens per second of a jitted forward+backward step of ladder model `size`."""
  overrides = {"compute_dtype": dtype}
  if vocab_size:
    overrides["vocab_size"] = vocab_size
  cfg = model_config(size, **overrides)
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  tokens = jax.random.randint(jax.random.key(0), (batch, seq_len), 0, cfg.vocab_size)
  ones = jnp.ones((batch, seq_len), jnp.int32)

  @jax.jit
  def grads(params, tokens):
    def loss(params):
      logits = nnx.merge(graphdef, params)(tokens, ones)
      targets, weights = next_token_targets(tokens, ones.astype(jnp.float32), ones)
      return weighted_cross_entropy(logits, targets, weights)[0]
    return jax.value_and_grad(loss)(params)

  seconds = _time(grads, params, tokens, repeats=5)
  return batch * seq_len / seconds


def main(_):
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; ceiling: a float32 "
        f"{flags.FLAGS.matmul_size}^3 matmul, re-timed beside each model so load changes cancel")
  print(f"{'model':>6} {'d_model':>7} {'layers':>6} {'GFLOP/token':>11} {'tokens/s':>10} {'GFLOP/s':>8} "
        f"{'ceiling':>8} {'MFU':>6}")
  rows, ceilings = [], []
  for size in flags.FLAGS.sizes:
    cfg = model_config(size)
    ceiling = matmul_gflops(flags.FLAGS.matmul_size)
    ceilings.append(ceiling)
    tokens_per_s = measure_tokens_per_s(size, flags.FLAGS.batch, flags.FLAGS.seq_len, flags.FLAGS.dtype)
    flops_per_token = train_flops_per_token(cfg, flags.FLAGS.seq_len)
    achieved = tokens_per_s * flops_per_token / 1e9
    mfu = achieved / ceiling
    rows.append({"model": size, "d_model": cfg.d_model, "tokens_per_s": tokens_per_s, "mfu": mfu})
    print(f"{size:>6} {cfg.d_model:>7} {cfg.n_layers:>6} {flops_per_token / 1e9:>11.4f} "
          f"{tokens_per_s:>10.0f} {achieved:>8.1f} {ceiling:>8.1f} {mfu:>6.2f}")
  if flags.FLAGS.json:
    with open(flags.FLAGS.json, "w") as f:
      json.dump({"matmul_gflops": sorted(ceilings)[len(ceilings) // 2], "rows": rows}, f, indent=2)


if __name__ == "__main__":
  app.run(main)
