"""Train-step speed on an accelerator: tokens/s, MFU against the datasheet peak, peak memory, largest batch.

For every ladder size x sequence length x attention implementation x remat policy (bf16 compute),
the project's full train step (`benchmarks.train_step.build_step`: AdamW, clipping) runs at the
largest batch that fits (or `--batch`). Each configuration runs in its own process, so the device's
`peak_bytes_in_use` is that configuration's alone and one running out of memory spoils no other.

- MFU: achieved FLOP/s (`ixt_jax.models.sizes.train_flops_per_token`, rematerialised work not
  counted) over the device's dense bf16 datasheet peak (`ixt_jax.train.throughput.PEAK_FLOPS`;
  on a CPU a timed matmul stands in).
- Largest batch: the compiler's memory plan (`compiled.memory_analysis()`) at batch 1 and 2 gives
  the fixed and per-row bytes; the predicted largest batch is then compiled and stepped down until
  it fits the device's `bytes_limit` (or `--memory_limit_gb`). Without a known limit (CPU) the
  search is skipped and `--batch` is used.
- Peak memory: the device's `memory_stats()["peak_bytes_in_use"]`; where a device keeps no
  statistics (CPU) the compiled plan's peak instead, marked `(plan)`.

  python benchmarks/accelerator.py                                   # 125m, 350m, 1b at 2048 and 8192
  python benchmarks/accelerator.py --sizes=1m --seq_lens=64 --batch=2 --steps=2   # a CPU smoke run
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.train_step import build_step, ixt_module, synthetic_batch, time_steps  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.models import model_config, train_flops_per_token  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.models.attention import IMPLEMENTATIONS, resolve  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.models.config import REMAT_POLICIES  # pylint: disable=g-import-not-at-top,wrong-import-position
from ixt_jax.train.throughput import peak_flops_per_device  # pylint: disable=g-import-not-at-top,wrong-import-position

flags.DEFINE_list("sizes", ["125m", "350m", "1b"], "ladder sizes")
flags.DEFINE_list("seq_lens", ["2048", "8192"], "tokens per row")
flags.DEFINE_list("attention", [], "implementations (default: every one this platform runs)")
flags.DEFINE_list("remat", list(REMAT_POLICIES), "remat policies")
flags.DEFINE_string("dtype", "bfloat16", "compute dtype")
flags.DEFINE_integer("vocab_size", 0, "output vocabulary (0 = the ladder's)")
flags.DEFINE_integer("batch", 0, "rows per step; 0 = the largest that fits (needs a device memory limit)")
flags.DEFINE_integer("steps", 5, "timed steps (after two warm-up steps)")
flags.DEFINE_float("memory_limit_gb", 0.0, "device memory to fit in (0 = the device's bytes_limit)")
flags.DEFINE_string("one", "", "internal: measure this one size:seq_len:attention:remat and print its JSON")
flags.DEFINE_string("json", "", "also write the figures here")

_RESULT = "RESULT "


def available_attention(platform: str) -> list[str]:
  """The implementations that run on `platform` (cuDNN needs bf16, which this benchmark uses)."""
  usable = []
  for name in IMPLEMENTATIONS:
    try:
      resolve(name, "bfloat16", platform)
      usable.append(name)
    except ValueError:
      pass
  return usable


def memory_limit_bytes() -> int | None:
  if flags.FLAGS.memory_limit_gb > 0:
    return int(flags.FLAGS.memory_limit_gb * 2 ** 30)
  stats = jax.devices()[0].memory_stats()
  return stats.get("bytes_limit") if stats else None


def planned_bytes(step, state, batch: int, seq_len: int, vocab_size: int) -> int:
  """The compiler's peak memory plan of one train step at this batch (nothing runs)."""
  shapes = jax.eval_shape(lambda: synthetic_batch(batch, seq_len, vocab_size))
  plan = step.lower(state, shapes).compile().memory_analysis()
  # XLA:CPU's peak_memory_in_bytes leaves out the temporaries; the sum bounds the peak from above.
  buffers = plan.argument_size_in_bytes + plan.output_size_in_bytes - plan.alias_size_in_bytes + plan.temp_size_in_bytes
  return max(plan.peak_memory_in_bytes, buffers)


def largest_batch(step, state, seq_len: int, vocab_size: int, limit: int) -> int:
  """The largest batch whose compiled plan fits `limit` bytes (0 if not even one row fits)."""
  one, two = (planned_bytes(step, state, b, seq_len, vocab_size) for b in (1, 2))
  if one > limit:
    return 0
  per_row = max(two - one, 1)
  batch = max(1, (limit - (one - per_row)) // per_row)
  while batch > 1 and planned_bytes(step, state, batch, seq_len, vocab_size) > limit:
    batch = int(batch * 0.9)  # the plan is nearly linear in the batch: a few steps at most
  return batch


def measure_one(size: str, seq_len: int, attention: str, remat: str) -> dict:
  """Tokens/s, MFU, peak memory and batch of one configuration, in this process."""
  f = flags.FLAGS
  overrides = dict(attention=attention, remat=remat, **({"vocab_size": f.vocab_size} if f.vocab_size else {}))
  cfg = model_config(size, compute_dtype=f.dtype, **overrides)
  row = {"size": size, "seq_len": seq_len, "attention": attention, "remat": remat}
  step, state = build_step(ixt_module(size, f.dtype, **overrides))
  limit = memory_limit_bytes()
  row["max_batch"] = largest_batch(step, state, seq_len, cfg.vocab_size, limit) if limit else None
  batch = f.batch or row["max_batch"]
  if not batch:
    return {**row, "error": "no batch given and no device memory limit known (pass --batch)" if not limit
            else "one row does not fit"}
  data = synthetic_batch(batch, seq_len, cfg.vocab_size)
  try:
    _, state = time_steps(step, state, data, 2)  # compile and warm up
    seconds, _ = time_steps(step, state, data, f.steps)
  except jax.errors.JaxRuntimeError as failure:  # e.g. RESOURCE_EXHAUSTED past the plan
    return {**row, "batch": batch, "error": str(failure).splitlines()[0][:200]}
  tokens_per_s = batch * seq_len / seconds
  stats = jax.devices()[0].memory_stats()
  if stats and "peak_bytes_in_use" in stats:
    peak, source = stats["peak_bytes_in_use"], "device"
  else:
    peak, source = planned_bytes(step, state, batch, seq_len, cfg.vocab_size), "plan"
  return {**row, "batch": batch, "tokens_per_s": tokens_per_s,
          "mfu": tokens_per_s * train_flops_per_token(cfg, seq_len) / peak_flops_per_device(),
          "peak_memory_gb": peak / 2 ** 30, "memory_source": source}


def run_isolated(size: str, seq_len: int, attention: str, remat: str) -> dict:
  """measure_one in a fresh process (its own memory statistics; an out-of-memory crash stays there)."""
  args = [a for a in sys.argv[1:] if not a.startswith(("--one", "--json"))]
  command = [sys.executable, os.path.abspath(__file__), *args, f"--one={size}:{seq_len}:{attention}:{remat}"]
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  for line in done.stdout.splitlines():
    if line.startswith(_RESULT):
      return json.loads(line[len(_RESULT):])
  tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
  return {"size": size, "seq_len": seq_len, "attention": attention, "remat": remat,
          "error": f"exit {done.returncode}: {tail[:200]}"}


def main(_):
  f = flags.FLAGS
  if f.one:
    size, seq_len, attention, remat = f.one.split(":")
    print(_RESULT + json.dumps(measure_one(size, int(seq_len), attention, remat)), flush=True)
    return
  device = jax.devices()[0]
  attention = f.attention or available_attention(device.platform)
  print(f"device: {device.device_kind} ({device.platform}); peak {peak_flops_per_device() / 1e12:.1f} TFLOP/s "
        f"(datasheet dense bf16, or a timed matmul on CPU); compute {f.dtype}; MFU counts no rematerialised work")
  print(f"{'size':>5} {'seq':>5} {'attention':>9} {'remat':>13} {'batch':>5} {'max':>5} {'tokens/s':>10} "
        f"{'MFU':>6} {'peak GiB':>14}")
  rows = []
  for size in f.sizes:
    for seq_len in (int(s) for s in f.seq_lens):
      for name in attention:
        for remat in f.remat:
          try:
            resolve(name, f.dtype)
            row = run_isolated(size, seq_len, name, remat)
          except ValueError as unavailable:
            row = {"size": size, "seq_len": seq_len, "attention": name, "remat": remat, "error": str(unavailable)}
          rows.append(row)
          if "error" in row:
            print(f"{size:>5} {seq_len:>5} {name:>9} {remat:>13}  -- {row['error']}")
            continue
          memory = f"{row['peak_memory_gb']:.2f}" + (" (plan)" if row["memory_source"] == "plan" else "")
          print(f"{size:>5} {seq_len:>5} {name:>9} {remat:>13} {row['batch']:>5} {row['max_batch'] or '-':>5} "
                f"{row['tokens_per_s']:>10.0f} {row['mfu']:>6.3f} {memory:>14}", flush=True)
  if f.json:
    with open(f.json, "w") as out:
      json.dump({"device_kind": device.device_kind, "dtype": f.dtype, "rows": rows}, out, indent=2)


if __name__ == "__main__":
  app.run(main)
