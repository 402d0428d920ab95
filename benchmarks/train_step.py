"""Forward+backward throughput and MFU of the transformer on this machine.

MFU is measured against a large float32 matmul timed in the same run (the practical ceiling of
this hardware), counting (6 x matmul parameters incl. the output projection + 12 x layers x seq x
d_attn) FLOPs per token (`ixt_jax.models.sizes.train_flops_per_token`).

  python benchmarks/train_step.py [--sizes=1m,8m,d512] [--batch=8] [--seq_len=256] [--json=PATH]
"""
from __future__ import annotations

import json

import jax
import jax.numpy as jnp
from absl import app, flags
from flax import nnx

from ixt_jax.models import Transformer, model_config, train_flops_per_token
from ixt_jax.train.throughput import matmul_flops, time_call
from ixt_jax.train.step import model_loss

flags.DEFINE_list("sizes", ["1m", "8m", "20m", "d512"], "ladder sizes to time")
flags.DEFINE_integer("batch", 8, "rows per step")
flags.DEFINE_integer("seq_len", 256, "tokens per row")
flags.DEFINE_string("dtype", "float32", "compute dtype")
flags.DEFINE_integer("vocab_size", 0, "output vocabulary (0 = the ladder's; e.g. 50257 for a GPT-2-sized head)")
flags.DEFINE_integer("matmul_size", 4096, "side of the square matmul that sets the ceiling")
flags.DEFINE_string("json", "", "also write the figures here")


def measure_tokens_per_s(size: str, batch: int, seq_len: int, dtype: str = "float32", vocab_size: int | None = None) -> float:
  """Tokens per second of a jitted forward+backward step of ladder model `size`."""
  overrides = {"compute_dtype": dtype}
  if vocab_size:
    overrides["vocab_size"] = vocab_size
  cfg = model_config(size, **overrides)
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  tokens = jax.random.randint(jax.random.key(0), (batch, seq_len), 0, cfg.vocab_size)
  batch_arrays = {"tokens": tokens, "segment_ids": jnp.ones_like(tokens),
                  "positions": jnp.broadcast_to(jnp.arange(seq_len), tokens.shape),
                  "loss_weights": jnp.ones(tokens.shape, jnp.float32)}
  grads = jax.jit(jax.value_and_grad(lambda p, b: model_loss(graphdef, p, b, 0.0), has_aux=True))

  seconds = time_call(grads, params, batch_arrays, repeats=5)
  return batch * seq_len / seconds


def main(_):
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; ceiling: a float32 "
        f"{flags.FLAGS.matmul_size}^3 matmul, re-timed beside each model so load changes cancel")
  print(f"{'model':>6} {'d_model':>7} {'layers':>6} {'GFLOP/token':>11} {'tokens/s':>10} {'GFLOP/s':>8} "
        f"{'ceiling':>8} {'MFU':>6}")
  rows, ceilings = [], []
  for size in flags.FLAGS.sizes:
    cfg = model_config(size, **({"vocab_size": flags.FLAGS.vocab_size} if flags.FLAGS.vocab_size else {}))
    ceiling = matmul_flops(flags.FLAGS.matmul_size) / 1e9
    ceilings.append(ceiling)
    tokens_per_s = measure_tokens_per_s(size, flags.FLAGS.batch, flags.FLAGS.seq_len, flags.FLAGS.dtype,
                                        cfg.vocab_size)
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
