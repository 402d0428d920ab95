"""Transformer pieces: parameters with logical axis names, RMSNorm, RoPE, GQA attention, SwiGLU."""
from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from ixt_jax.models.attention import Attend, xla_attention
from ixt_jax.models.config import ModelConfig
from ixt_jax.models.dot import dot
from ixt_jax.parallel.rules import constrain


def param(rngs: nnx.Rngs, shape: Sequence[int], axes: Sequence[str], fan_in: int | None = None,
          init: str = "normal") -> nnx.Param:
  """A float32 parameter carrying its logical axis names (the rules table shards it)."""
  if init == "ones":
    value = jnp.ones(shape, jnp.float32)
  else:
    std = 1.0 if fan_in is None else fan_in ** -0.5
    value = std * jax.random.truncated_normal(rngs.params(), -2.0, 2.0, shape, jnp.float32)
  # Sharding is applied by jit's out_shardings from these names (parallel.sharding), so a model
  # can also be built with no mesh at all.
  return nnx.Param(value, out_sharding=tuple(axes), eager_sharding=False)


def matmul(spec: str, x: jax.Array, w: jax.Array, dtype) -> jax.Array:
  """einsum in the compute dtype with float32 accumulation, rounded to it (models.dot: native bf16 on CPU)."""
  return dot(spec, x, w, dtype).astype(dtype)


class RMSNorm(nnx.Module):

  def __init__(self, dim: int, eps: float, *, rngs: nnx.Rngs):
    self.scale = param(rngs, (dim,), ("norm",), init="ones")
    self.eps = eps

  def __call__(self, x: jax.Array) -> jax.Array:
    x32 = x.astype(jnp.float32)
    normed = x32 * jax.lax.rsqrt(jnp.mean(x32 * x32, axis=-1, keepdims=True) + self.eps)
    return (normed * self.scale[...]).astype(x.dtype)


def rotary_angles(positions: jax.Array, head_dim: int, theta: float) -> tuple[jax.Array, jax.Array]:
  """(sin, cos) [B, T, 1, head_dim/2] for integer positions [B, T]; computed once per forward pass."""
  half = head_dim // 2
  inv_freq = theta ** (-jnp.arange(half, dtype=jnp.float32) / half)
  angles = positions.astype(jnp.float32)[..., None, None] * inv_freq
  return jnp.sin(angles), jnp.cos(angles)


def rotary(x: jax.Array, sin_cos: tuple[jax.Array, jax.Array]) -> jax.Array:
  """Rotary position embedding of x [B, T, heads, head_dim]."""
  sin, cos = sin_cos
  half = x.shape[-1] // 2
  x1, x2 = x[..., :half].astype(jnp.float32), x[..., half:].astype(jnp.float32)
  return jnp.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1).astype(x.dtype)


class Attention(nnx.Module):
  """Grouped-query attention: n_heads query heads share n_kv_heads key/value heads."""

  def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
    d, h, k, hd = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
    self.q = param(rngs, (d, h, hd), ("embed", "heads", "head_dim"), fan_in=d)
    self.k = param(rngs, (d, k, hd), ("embed", "kv_heads", "head_dim"), fan_in=d)
    self.v = param(rngs, (d, k, hd), ("embed", "kv_heads", "head_dim"), fan_in=d)
    self.o = param(rngs, (h, hd, d), ("heads", "head_dim", "embed"), fan_in=h * hd)
    self.cfg = cfg

  def __call__(self, x: jax.Array, attend: Attend, sin_cos: tuple[jax.Array, jax.Array]) -> jax.Array:
    """x [B, T, d]; `attend` (models.attention.make_attend) knows the causal, packed mask."""
    return self._output(attend(*self._project(x, sin_cos)))

  def decode(self, x: jax.Array, mask: jax.Array, sin_cos: tuple[jax.Array, jax.Array], cache_k: jax.Array,
             cache_v: jax.Array, index: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Attention of x [B, T, d] at cache slots index..index+T-1 over a cache [B, S, kv_heads, head_dim].

    Returns the output and the new keys and values [B, T, kv_heads, head_dim] (the caller stores
    them); `mask` [B, 1, 1, T, S] says which slots each new token sees.
    """
    q, k, v = self._project(x, sin_cos)
    keys = jax.lax.dynamic_update_slice_in_dim(cache_k, k.astype(cache_k.dtype), index, axis=1)
    values = jax.lax.dynamic_update_slice_in_dim(cache_v, v.astype(cache_v.dtype), index, axis=1)
    return self._output(xla_attention(q, keys, values, mask)), k, v

  def _project(self, x: jax.Array, sin_cos: tuple[jax.Array, jax.Array]):
    dtype = x.dtype
    q = rotary(matmul("btd,dhe->bthe", x, self.q[...], dtype), sin_cos)
    k = rotary(matmul("btd,dke->btke", x, self.k[...], dtype), sin_cos)
    v = matmul("btd,dke->btke", x, self.v[...], dtype)
    return constrain(q, ("batch", "length", "act_heads", None)), k, v

  def _output(self, attended: jax.Array) -> jax.Array:
    return matmul("bthe,hed->btd", attended, self.o[...], attended.dtype)


@jax.checkpoint
def swiglu(gate: jax.Array, up: jax.Array) -> jax.Array:
  """silu(gate) * up, recomputed in the backward from its two inputs: saving its intermediates costs
  more memory traffic than the sigmoid does (measured on the CPU train step)."""
  return jax.nn.silu(gate) * up


class SwiGLU(nnx.Module):

  def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
    d, f = cfg.d_model, cfg.d_ff
    self.gate = param(rngs, (d, f), ("embed", "mlp"), fan_in=d)
    self.up = param(rngs, (d, f), ("embed", "mlp"), fan_in=d)
    self.down = param(rngs, (f, d), ("mlp", "embed"), fan_in=f)

  def __call__(self, x: jax.Array) -> jax.Array:
    dtype = x.dtype
    hidden = swiglu(matmul("btd,df->btf", x, self.gate[...], dtype), matmul("btd,df->btf", x, self.up[...], dtype))
    hidden = constrain(hidden, ("batch", "length", "act_mlp"))
    return matmul("btf,fd->btd", hidden, self.down[...], dtype)


class Block(nnx.Module):
  """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x))."""

  def __init__(self, cfg: ModelConfig, *, rngs: nnx.Rngs):
    self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps, rngs=rngs)
    self.attn = Attention(cfg, rngs=rngs)
    self.mlp_norm = RMSNorm(cfg.d_model, cfg.norm_eps, rngs=rngs)
    self.mlp = SwiGLU(cfg, rngs=rngs)

  def __call__(self, x: jax.Array, attend: Attend, sin_cos: tuple[jax.Array, jax.Array]) -> jax.Array:
    return self._mlp_residual(x + self.attn(self.attn_norm(x), attend, sin_cos))

  def decode(self, x: jax.Array, mask: jax.Array, sin_cos: tuple[jax.Array, jax.Array], cache_k: jax.Array,
             cache_v: jax.Array, index: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The block on new tokens at cache slots index.. (see Attention.decode); also their keys, values."""
    attended, k, v = self.attn.decode(self.attn_norm(x), mask, sin_cos, cache_k, cache_v, index)
    return self._mlp_residual(x + attended), k, v

  def _mlp_residual(self, x: jax.Array) -> jax.Array:
    x = x + self.mlp(self.mlp_norm(x))
    return constrain(x, ("batch", "length", "act_embed"))
