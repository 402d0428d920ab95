"""The decoder-only transformer: embed, N blocks (scanned or unrolled, optionally rematerialised), logits.

`decode` runs the same blocks on a few new tokens against a fixed-size key/value cache (sampling).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from ixt_jax.models.attention import make_attend
from ixt_jax.models.config import ModelConfig
from ixt_jax.models.layers import Block, RMSNorm, matmul, param, rotary_angles
from ixt_jax.parallel.rules import constrain

REMAT = {
    "full": jax.checkpoint_policies.nothing_saveable,
    "dots": jax.checkpoint_policies.checkpoint_dots,
    "dots_no_batch": jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims,
}
CACHE_AXES = ("layers", "batch", "length", "act_kv_heads", "head_dim")


def scan_unroll(cfg: ModelConfig) -> int:
  """Layers per iteration of the training forward's layer scan (the parameters stay stacked either way).

  All of them on a CPU with bf16 compute: in a loop, XLA:CPU keeps float32 and bf16 copies of the
  stacked per-layer residuals and converts whole stacks between them (measured: the d512 bf16 train
  step 1.15-1.2x faster unrolled). In float32 unrolling gained nothing, so it keeps the loop and its
  compile time flat in depth.
  """
  return cfg.n_layers if jax.default_backend() == "cpu" and cfg.compute_dtype == "bfloat16" else 1


class KVCache(NamedTuple):
  """Keys and values of every layer at every cache slot: [layers, batch, slots, kv_heads, head_dim]."""
  k: jax.Array
  v: jax.Array


def init_cache(cfg: ModelConfig, batch: int, slots: int) -> KVCache:
  zeros = jnp.zeros((cfg.n_layers, batch, slots, cfg.n_kv_heads, cfg.head_dim), cfg.compute_dtype)
  return KVCache(constrain(zeros, CACHE_AXES), constrain(zeros, CACHE_AXES))


def cache_mask(start: jax.Array, index: jax.Array, new_tokens: int, slots: int) -> jax.Array:
  """[B, 1, 1, T, S]: token t (at slot index + t) sees slots start[b]..index + t of its row."""
  slot = jnp.arange(slots)
  query_slot = index + jnp.arange(new_tokens)
  mask = (slot[None, None, :] >= start[:, None, None]) & (slot[None, None, :] <= query_slot[None, :, None])
  return mask[:, None, None]


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
    if segment_ids is None:
      segment_ids = jnp.ones_like(tokens)
    if positions is None:
      positions = jnp.broadcast_to(jnp.arange(tokens.shape[1]), tokens.shape)
    attend = make_attend(cfg.attention, cfg.compute_dtype, segment_ids)
    sin_cos = rotary_angles(positions, cfg.head_dim, cfg.rope_theta)
    x = self._embed(tokens)

    unroll = scan_unroll(cfg)

    def apply_block(block, x):
      return block(x, attend, sin_cos)
    if cfg.remat != "none":  # only a loop keeps XLA from merging the recomputation with the forward
      apply_block = nnx.remat(apply_block, policy=REMAT[cfg.remat], prevent_cse=not cfg.scan_layers or unroll > 1)

    if cfg.scan_layers:
      @nnx.scan(in_axes=(0, nnx.Carry), out_axes=nnx.Carry, transform_metadata={nnx.PARTITION_NAME: "layers"},
                unroll=unroll)
      def run_blocks(block, x):
        return apply_block(block, x)
      x = run_blocks(self.blocks, x)
    else:
      for block in self.blocks:
        x = apply_block(block, x)
    return self._logits(x)

  def decode(self, tokens: jax.Array, cache: KVCache, index: jax.Array, start: jax.Array
             ) -> tuple[jax.Array, KVCache]:
    """Logits of tokens [B, T] written at cache slots index..index+T-1, and the updated cache.

    Row b's sequence begins at slot start[b] (slots before it are left padding, never seen), so
    a token's position is its slot minus start[b]. A prompt is one call at index 0, each sampled
    token one more: the same logits as `__call__` on the whole sequence.
    """
    cfg = self.cfg
    slots = cache.k.shape[2]
    mask = cache_mask(start, index, tokens.shape[1], slots)
    positions = jnp.maximum(index + jnp.arange(tokens.shape[1])[None, :] - start[:, None], 0)
    sin_cos = rotary_angles(positions, cfg.head_dim, cfg.rope_theta)
    x = self._embed(tokens)
    if cfg.scan_layers:
      @nnx.scan(in_axes=(0, 0, 0, nnx.Carry), out_axes=(nnx.Carry, 0, 0),
                transform_metadata={nnx.PARTITION_NAME: "layers"})
      def run_blocks(block, cache_k, cache_v, x):
        return block.decode(x, mask, sin_cos, cache_k, cache_v, index)
      x, new_k, new_v = run_blocks(self.blocks, cache.k, cache.v, x)
    else:
      new = []
      for layer, block in enumerate(self.blocks):
        x, k, v = block.decode(x, mask, sin_cos, cache.k[layer], cache.v[layer], index)
        new.append((k, v))
      new_k, new_v = (jnp.stack(kv) for kv in zip(*new))
    # One in-place write per step into the (loop-carried) cache, not a copy per layer.
    cache = KVCache(*(jax.lax.dynamic_update_slice_in_dim(old, fresh.astype(old.dtype), index, axis=2)
                      for old, fresh in ((cache.k, new_k), (cache.v, new_v))))
    return self._logits(x), cache

  def _embed(self, tokens: jax.Array) -> jax.Array:
    x = jnp.take(self.embedding[...], tokens, axis=0) * self.cfg.d_model ** 0.5
    return constrain(x.astype(self.cfg.compute_dtype), ("batch", "length", "act_embed"))

  def _logits(self, x: jax.Array) -> jax.Array:
    dtype = jnp.dtype(self.cfg.compute_dtype)
    x = self.final_norm(x)
    if self.cfg.tie_embeddings:
      logits = matmul("btd,vd->btv", x, self.embedding[...], dtype)
    else:
      logits = matmul("btd,dv->btv", x, self.unembedding[...], dtype)
    return constrain(logits.astype(jnp.float32), ("batch", "length", "act_vocab"))
