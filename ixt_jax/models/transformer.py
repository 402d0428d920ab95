"""The decoder-only transformer: embed, N blocks (scanned or unrolled, optionally rematerialised), logits."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from ixt_jax.models.config import ModelConfig
from ixt_jax.models.layers import Block, RMSNorm, attention_mask, matmul, param, rotary_angles
from ixt_jax.parallel.rules import constrain

REMAT = {
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots": jax.checkpoint_policies.checkpoint_dots,
    "dots_no_batch": jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims,
}


class Transformer(nnx.Module):
  """tokens [B, T] -> float32 logits [B, T, vocab]; packed rows via segment_ids and positions."""

  def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
    self.cfg = cfg
    # Scaled by sqrt(d_model) on input (below), so tied logits start at unit scale too.
    self.embedding = param(rngs, (cfg.vocab_size, cfg.d_model), ("vocab", "embed"), fan_in=cfg.d_model)
    if cfg.scan_layers:
      @nnx.split_rngs(splits=cfg.n_layers)
      @nnx.vmap(in_axes=(0,), out_axes=0, transform_metadata={nnx.PARTITION_NAME: "layers"})
      def make_blocks(rngs):
        return Block(cfg, rngs=rngs)
      self.blocks = make_blocks(rngs)
    else:
      self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.n_layers)])
    self.final_norm = RMSNorm(cfg.d_model, cfg.norm_eps, rngs=rngs)
    if not cfg.tie_embeddings:
      self.unembedding = param(rngs, (cfg.d_model, cfg.vocab_size), ("embed", "vocab"), fan_in=cfg.d_model)

  def __call__(self, tokens: jax.Array, segment_ids: jax.Array | None = None,
               positions: jax.Array | None = None) -> jax.Array:
    cfg = self.cfg
    dtype = jnp.dtype(cfg.compute_dtype)
    if segment_ids is None:
      segment_ids = jnp.ones_like(tokens)
    if positions is None:
      positions = jnp.broadcast_to(jnp.arange(tokens.shape[1]), tokens.shape)
    mask = attention_mask(segment_ids)
    sin_cos = rotary_angles(positions, cfg.head_dim, cfg.rope_theta)
    x = (jnp.take(self.embedding[...], tokens, axis=0) * cfg.d_model ** 0.5).astype(dtype)
    x = constrain(x, ("batch", "length", "act_embed"))

    def apply_block(block, x):
      return block(x, mask, sin_cos)
    if cfg.remat != "none":
      apply_block = nnx.remat(apply_block, policy=REMAT[cfg.remat], prevent_cse=not cfg.scan_layers)

    if cfg.scan_layers:
      @nnx.scan(in_axes=(0, nnx.Carry), out_axes=nnx.Carry, transform_metadata={nnx.PARTITION_NAME: "layers"})
      def run_blocks(block, x):
        return apply_block(block, x)
      x = run_blocks(self.blocks, x)
    else:
      for block in self.blocks:
        x = apply_block(block, x)

    x = self.final_norm(x)
    if cfg.tie_embeddings:
      logits = matmul("btd,vd->btv", x, self.embedding[...], dtype)
    else:
      logits = matmul("btd,dv->btv", x, self.unembedding[...], dtype)
    return constrain(logits.astype(jnp.float32), ("batch", "length", "act_vocab"))
