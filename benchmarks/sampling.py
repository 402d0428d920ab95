"""Decode tokens/s of a small model at batch 1 and 8, with the KV cache and recomputing every step.

Each row runs to the full length (end of document ignored); the prompt's prefill is included. The
cache makes a step cost O(current length) instead of a forward pass over the whole buffer, so its
advantage grows with the number of tokens generated.

  python benchmarks/sampling.py [--size=1m] [--batches=1,8] [--prompt_tokens=32] [--new_tokens=256] [--json=PATH]
"""
from __future__ import annotations

import json

import jax
from absl import app, flags
from flax import nnx

from ixt_jax.data.vocab import ByteVocabulary
from ixt_jax.evaluate.sampling import Sampler
from ixt_jax.evaluate.speed import decode_speed
from ixt_jax.models import Transformer, model_config
from ixt_jax.parallel.mesh import make_mesh

flags.DEFINE_string("size", "1m", "ladder size")
flags.DEFINE_list("batches", ["1", "8"], "rows decoded together")
flags.DEFINE_integer("prompt_tokens", 32, "prompt length")
flags.DEFINE_integer("new_tokens", 256, "tokens generated per row (a multiple of 64)")
flags.DEFINE_integer("devices", 1, "devices on the data axis (the model is small: 1 is fastest on CPU)")
flags.DEFINE_string("json", "", "also write the figures here")


def main(_):
  f = flags.FLAGS
  cfg = model_config(f.size)
  graphdef, state = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  params = nnx.to_pure_dict(state)
  mesh = make_mesh({"data": f.devices}, jax.devices()[:f.devices])
  print(f"{f.size} ({cfg.d_model} wide, {cfg.n_layers} layers), {f.prompt_tokens} prompt + {f.new_tokens} new "
        f"tokens per row, {f.devices} x {jax.devices()[0].device_kind}")
  print(f"{'batch':>5} {'KV cache':>12} {'recompute':>12} {'speed-up':>9}   (generated tokens/s)")
  rows = []
  for batch in map(int, f.batches):
    speeds = {}
    for use_cache in (True, False):
      sampler = Sampler(graphdef, ByteVocabulary(), mesh, use_cache=use_cache)
      speeds[use_cache] = decode_speed(sampler, params, batch, f.prompt_tokens, f.new_tokens)["tokens_per_s"]
    rows.append({"batch": batch, "kv_cache_tokens_per_s": speeds[True], "recompute_tokens_per_s": speeds[False],
                 "speedup": speeds[True] / speeds[False]})
    print(f"{batch:>5} {speeds[True]:>12,.0f} {speeds[False]:>12,.0f} {speeds[True] / speeds[False]:>8.1f}x")
  if f.json:
    with open(f.json, "w") as out:
      json.dump({"model": f.size, "prompt_tokens": f.prompt_tokens, "new_tokens": f.new_tokens,
                 "devices": f.devices, "device_kind": jax.devices()[0].device_kind, "rows": rows}, out, indent=2)


if __name__ == "__main__":
  app.run(main)
