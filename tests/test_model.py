"""The transformer's parameter tree, FLOP counts, packed-segment masking and import hygiene."""
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from ixt_jax.models import Transformer, model_config, param_counts, train_flops_per_token
from ixt_jax.models.sizes import LADDER
from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy


def _tree_counts(model):
  params = nnx.state(model, nnx.Param)
  flat = jax.tree_util.tree_flatten_with_path(params)[0]
  total = sum(leaf.size for _, leaf in flat)
  embedding = sum(leaf.size for path, leaf in flat if "embedding" in jax.tree_util.keystr(path))
  return total, total - embedding


@pytest.mark.parametrize("size", ["1m", "3m", "8m", "20m"])
@pytest.mark.parametrize("tie", [True, False])
def test_param_counts_match_the_real_tree(size, tie):
  cfg = model_config(size, tie_embeddings=tie)
  model = nnx.eval_shape(lambda: Transformer(cfg, rngs=nnx.Rngs(0)))
  total, non_embedding = _tree_counts(model)
  counts = param_counts(cfg)
  assert counts["total"] == total
  assert counts["non_embedding"] == non_embedding


def test_ladder_reaches_the_papers_scales():
  totals = {size: param_counts(model_config(size))["total"] for size in LADDER}
  assert 0.9e6 < totals["1m"] < 1.5e6
  assert 7.0e9 < totals["7.5b"] < 8.0e9
  assert 11.5e9 < totals["12b"] < 12.8e9


def _train_step_flops(cfg, batch, seq_len):
  model = Transformer(cfg, rngs=nnx.Rngs(0))
  graphdef, params = nnx.split(model)
  tokens = jnp.zeros((batch, seq_len), jnp.int32)

  def loss(params):
    logits = nnx.merge(graphdef, params)(tokens)
    targets, weights = next_token_targets(tokens, jnp.ones(tokens.shape), jnp.ones_like(tokens))
    return weighted_cross_entropy(logits, targets, weights)[0]

  compiled = jax.jit(jax.value_and_grad(loss)).lower(params).compile()
  analysis = compiled.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, list) else analysis
  return analysis["flops"]


@pytest.mark.parametrize("size,seq_len", [("1m", 64), ("3m", 128)])
def test_flops_per_token_match_xla(size, seq_len):
  cfg = model_config(size, scan_layers=False)
  batch = 2
  xla = _train_step_flops(cfg, batch, seq_len)
  ours = train_flops_per_token(cfg, seq_len) * batch * seq_len
  # XLA also counts element-wise work (softmax, norms, SwiGLU gate): a few percent on top.
  assert 0.97 < xla / ours < 1.12, (xla, ours)


def _small_cfg(**overrides):
  return model_config("1m", **{"vocab_size": 97, "d_model": 64, "d_ff": 128, "n_layers": 2, **overrides})


def test_packed_row_equals_each_segment_alone():
  cfg = _small_cfg()
  model = Transformer(cfg, rngs=nnx.Rngs(1))
  rng = np.random.default_rng(0)
  lengths = [5, 9, 3]
  segments = [rng.integers(3, cfg.vocab_size, n) for n in lengths]
  row_len = 20  # 17 tokens + 3 padding
  tokens = np.zeros((1, row_len), np.int32)
  segment_ids = np.zeros((1, row_len), np.int32)
  positions = np.zeros((1, row_len), np.int32)
  start = 0
  for i, seg in enumerate(segments):
    tokens[0, start:start + len(seg)] = seg
    segment_ids[0, start:start + len(seg)] = i + 1
    positions[0, start:start + len(seg)] = np.arange(len(seg))
    start += len(seg)
  packed = model(jnp.asarray(tokens), jnp.asarray(segment_ids), jnp.asarray(positions))
  assert np.isfinite(np.asarray(packed)).all()  # padding rows attend to padding only, no NaN
  start = 0
  for seg in segments:
    alone = model(jnp.asarray(seg[None], jnp.int32))
    np.testing.assert_allclose(packed[0, start:start + len(seg)], alone[0], rtol=1e-5, atol=1e-5)
    start += len(seg)


def test_scan_remat_and_unrolled_agree():
  cfg = _small_cfg(n_kv_heads=1)  # GQA: 4 query heads share one key/value head
  tokens = jax.random.randint(jax.random.key(0), (2, 12), 0, cfg.vocab_size)
  scanned = Transformer(cfg, rngs=nnx.Rngs(3))
  remat = Transformer(cfg.__class__(**{**cfg.__dict__, "remat": "full"}), rngs=nnx.Rngs(3))
  np.testing.assert_allclose(scanned(tokens), remat(tokens), rtol=1e-6, atol=1e-6)
  # The unrolled model holds the same numbers as a list of layers instead of a stacked array.
  unrolled = Transformer(cfg.__class__(**{**cfg.__dict__, "scan_layers": False}), rngs=nnx.Rngs(3))
  stacked = nnx.state(scanned.blocks)
  for i, block in enumerate(unrolled.blocks):
    nnx.update(block, jax.tree.map(lambda x: x[i], stacked))
  nnx.update(unrolled, {"embedding": nnx.state(scanned)["embedding"], "final_norm": nnx.state(scanned.final_norm)})
  np.testing.assert_allclose(scanned(tokens), unrolled(tokens), rtol=1e-5, atol=1e-5)


def test_bfloat16_compute_keeps_float32_params_and_is_close():
  cfg = _small_cfg()
  tokens = jax.random.randint(jax.random.key(0), (2, 12), 0, cfg.vocab_size)
  f32 = Transformer(cfg, rngs=nnx.Rngs(3))
  bf16 = Transformer(cfg.__class__(**{**cfg.__dict__, "compute_dtype": "bfloat16"}), rngs=nnx.Rngs(3))
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(nnx.state(bf16, nnx.Param)))
  np.testing.assert_allclose(f32(tokens), bf16(tokens), atol=0.1)


def test_invalid_model_config_names_the_field():
  with pytest.raises(ValueError, match="n_kv_heads"):
    model_config("1m", n_kv_heads=3)
  with pytest.raises(ValueError, match="unknown model config field"):
    model_config("1m", n_experts=4)


def test_import_does_not_load_tensorflow():
  code = "import sys, ixt_jax, ixt_jax.models, ixt_jax.parallel.sharding; print('tensorflow' in sys.modules)"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "False"
