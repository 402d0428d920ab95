"""Train-step throughput and MFU of ixt_jax beside a minimal Flax LM's, in one run on this machine.

Both sides run the project's full train step (`ixt_jax.train.step.make_train_step`: weighted
cross-entropy, AdamW with global-norm clipping from `ixt_jax.train.optimizer`), so only the model
differs. The reference is the smallest usual Flax LM at the same width, depth, heads and
vocabulary: learned positional embedding, LayerNorm, multi-head attention (no GQA), GELU MLP with
F = 4 x d_model, tied output, layers unrolled, float32. Each side's FLOPs per token come from its
own formula (6 x matmul parameters incl. the output projection + 12 x layers x seq x d_attn).

MFU is measured against a large float32 matmul (this CPU's practical ceiling), timed between the
rows in every round; the rows are timed in interleaved rounds so that load changes on a shared
machine hit all of them alike, and one ceiling (the median) serves the whole run. So each row's
ratio to the reference is both its MFU ratio and its tokens x FLOP/s ratio (each side's own FLOPs
per token times its tokens per second).

  python benchmarks/train_step.py [--sizes=d512] [--vocab_size=8192] [--batch=8] [--seq_len=256]
"""
from __future__ import annotations

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
from absl import app, flags
from flax import nnx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ixt_jax.models import ModelConfig, Transformer, model_config, train_flops_per_token  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train.config import get_run_config  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train.optimizer import make_optimizer  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train.step import init_state, make_train_step  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train.throughput import matmul_flops  # pylint: disable=g-import-not-at-top,wrong-import-position



class _ReferenceBlock(nnx.Module):

  def __init__(self, d_model: int, n_heads: int, d_ff: int, *, rngs: nnx.Rngs):
    self.attn_norm = nnx.LayerNorm(d_model, rngs=rngs)
    self.attn = nnx.MultiHeadAttention(n_heads, d_model, decode=False, rngs=rngs)
    self.mlp_norm = nnx.LayerNorm(d_model, rngs=rngs)
    self.up = nnx.Linear(d_model, d_ff, rngs=rngs)
    self.down = nnx.Linear(d_ff, d_model, rngs=rngs)

  def __call__(self, x, mask):
    x = x + self.attn(self.attn_norm(x), mask=mask)
    return x + self.down(nnx.gelu(self.up(self.mlp_norm(x))))


class ReferenceLM(nnx.Module):
  """The minimal Flax LM; takes (tokens, segment_ids, positions) like `Transformer` (ignores segments)."""

  def __init__(self, vocab_size: int, d_model: int, n_layers: int, n_heads: int, max_len: int, *, rngs: nnx.Rngs):
    self.embed = nnx.Embed(vocab_size, d_model, rngs=rngs)
    self.position = nnx.Embed(max_len, d_model, rngs=rngs)
    self.blocks = nnx.List([_ReferenceBlock(d_model, n_heads, 4 * d_model, rngs=rngs) for _ in range(n_layers)])
    self.final_norm = nnx.LayerNorm(d_model, rngs=rngs)

  def __call__(self, tokens, segment_ids=None, positions=None):
    del segment_ids
    x = self.embed(tokens) + self.position(positions)
    mask = nnx.make_causal_mask(tokens)
    for block in self.blocks:
      x = block(x, mask)
    return self.embed.attend(self.final_norm(x))


def reference_flops_per_token(cfg: ModelConfig, seq_len: int) -> int:
  """The reference LM's training FLOPs per token (biases and norms left out, as is usual)."""
  d, f = cfg.d_model, 4 * cfg.d_model
  matmul_params = cfg.n_layers * (4 * d * d + 2 * d * f) + cfg.vocab_size * d
  return 6 * matmul_params + 12 * cfg.n_layers * seq_len * d


def synthetic_batch(batch: int, seq_len: int, vocab_size: int) -> dict:
  tokens = jax.random.randint(jax.random.key(0), (batch, seq_len), 0, vocab_size)
  return {"tokens": tokens, "segment_ids": jnp.ones_like(tokens),
          "positions": jnp.broadcast_to(jnp.arange(seq_len), tokens.shape),
          "loss_weights": jnp.ones(tokens.shape, jnp.float32)}


def build_step(module: nnx.Module):
  """(jitted train step, its initial state): the project's step with the default run config's optimizer."""
  c = get_run_config()
  tx, schedule = make_optimizer(c.optimizer, c.train.steps)
  graphdef, state = nnx.split(module)
  step = jax.jit(make_train_step(graphdef, tx, schedule, c.train.z_loss), donate_argnums=0)
  return step, init_state(nnx.to_pure_dict(state), tx, c.seed)


def time_steps(step, state, batch: dict, steps: int):
  """(median seconds per step, the state after): the state is threaded through, as in training."""
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    state, metrics = step(state, batch)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - start)
  return sorted(times)[len(times) // 2], state


def ixt_module(size: str, dtype: str, vocab_size: int | None = None, **overrides) -> nnx.Module:
  cfg = model_config(size, compute_dtype=dtype, **({"vocab_size": vocab_size} if vocab_size else {}), **overrides)
  return Transformer(cfg, rngs=nnx.Rngs(0))


def measure_tokens_per_s(size: str, batch: int, seq_len: int, dtype: str = "float32", vocab_size: int | None = None) -> float:
  """Tokens per second of the jitted train step of ladder model `size` (after compilation)."""
  module = ixt_module(size, dtype, vocab_size)
  step, state = build_step(module)
  data = synthetic_batch(batch, seq_len, module.cfg.vocab_size)
  _, state = time_steps(step, state, data, 2)  # compile and warm up
  seconds, _ = time_steps(step, state, data, 5)
  return batch * seq_len / seconds


def compare(size: str, batch: int, seq_len: int, vocab_size: int, dtypes, rounds: int, steps: int,
            matmul_size: int) -> list[dict]:
  """The reference row and one ixt_jax row per dtype, timed in interleaved rounds."""
  cfg = model_config(size, **({"vocab_size": vocab_size} if vocab_size else {}))
  rows = [{"model": f"reference {size}", "dtype": "float32", "flops_per_token": reference_flops_per_token(cfg, seq_len),
           "module": ReferenceLM(cfg.vocab_size, cfg.d_model, cfg.n_layers, cfg.n_heads, seq_len, rngs=nnx.Rngs(0))}]
  rows += [{"model": f"ixt_jax {size}", "dtype": dtype, "flops_per_token": train_flops_per_token(cfg, seq_len),
            "module": ixt_module(size, dtype, cfg.vocab_size)} for dtype in dtypes]
  data = synthetic_batch(batch, seq_len, cfg.vocab_size)
  for row in rows:
    row["step"], row["state"] = build_step(row.pop("module"))
    _, row["state"] = time_steps(row["step"], row["state"], data, 2)  # compile and warm up
    row["seconds"] = []
  ceilings = []
  for _ in range(rounds):
    for row in rows:
      ceilings.append(matmul_flops(matmul_size, repeats=3))
      seconds, row["state"] = time_steps(row["step"], row["state"], data, steps)
      row["seconds"].append(seconds)
  median = lambda xs: sorted(xs)[len(xs) // 2]
  ceiling = median(ceilings)
  results = []
  for row in rows:
    tokens_per_s = batch * seq_len / median(row["seconds"])
    achieved = tokens_per_s * row["flops_per_token"]
    results.append({"model": row["model"], "dtype": row["dtype"], "flops_per_token": row["flops_per_token"],
                    "tokens_per_s": tokens_per_s, "flops_per_s": achieved, "ceiling_flops_per_s": ceiling,
                    "mfu": achieved / ceiling, "ceiling_spread": (min(ceilings) / ceiling, max(ceilings) / ceiling)})
  for result in results:
    result["ratio_to_reference"] = result["flops_per_s"] / results[0]["flops_per_s"]
  return results


def define_flags():
  """The command line of this script (not defined on import: other benchmarks import the helpers)."""
  flags.DEFINE_list("sizes", ["d512"], "ladder sizes to time (each beside a reference LM of its shape)")
  flags.DEFINE_integer("batch", 8, "rows per step")
  flags.DEFINE_integer("seq_len", 256, "tokens per row")
  flags.DEFINE_list("dtypes", ["float32", "bfloat16"], "ixt_jax compute dtypes to time")
  flags.DEFINE_integer("vocab_size", 8192, "output vocabulary (0 = the ladder's)")
  flags.DEFINE_integer("matmul_size", 4096, "side of the square matmul that sets the ceiling")
  flags.DEFINE_integer("rounds", 3, "interleaved timing rounds (the median is reported)")
  flags.DEFINE_integer("steps", 3, "train steps per round")
  flags.DEFINE_string("json", "", "also write the figures here")


def main(_):
  f = flags.FLAGS
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; batch {f.batch} x {f.seq_len}; "
        f"ceiling: a float32 {f.matmul_size}^3 matmul timed between the rows (median of the run); full "
        "train step (AdamW, clipping) on every row; ratio = MFU / reference MFU = tokens x FLOP/s / reference's")
  print(f"{'model':>16} {'dtype':>9} {'GFLOP/token':>11} {'tokens/s':>9} {'GFLOP/s':>8} {'ceiling':>8} "
        f"{'MFU':>5} {'ratio':>5}")
  rows = []
  for size in f.sizes:
    for row in compare(size, f.batch, f.seq_len, f.vocab_size, f.dtypes, f.rounds, f.steps, f.matmul_size):
      rows.append(row)
      print(f"{row['model']:>16} {row['dtype']:>9} {row['flops_per_token'] / 1e9:>11.4f} {row['tokens_per_s']:>9.0f} "
            f"{row['flops_per_s'] / 1e9:>8.1f} {row['ceiling_flops_per_s'] / 1e9:>8.1f} {row['mfu']:>5.2f} "
            f"{row['ratio_to_reference']:>5.2f}")
    low, high = rows[-1]["ceiling_spread"]
    print(f"  (the ceiling's timings ranged {low:.2f}x to {high:.2f}x of its median: the machine's load)")
  if f.json:
    with open(f.json, "w") as out:
      json.dump({"batch": f.batch, "seq_len": f.seq_len, "rows": rows}, out, indent=2)


if __name__ == "__main__":
  define_flags()
  app.run(main)
