"""Causal, packed, grouped-query attention behind one switch: `model.attention`.

Every implementation maps q [B, T, heads, head_dim] and k, v [B, S, kv_heads, head_dim] to
[B, T, heads, head_dim], causal and never across packed segments (`segment_ids` [B, T]; segment 0
is padding, which attends to padding only, so no row is empty):

- `xla`: einsum softmax that materialises the [B, heads, T, S] scores; the reference, and the
  fastest on a CPU at a few hundred tokens. The KV-cache decode path always uses it.
- `cudnn`: cuDNN flash attention through `jax.nn.dot_product_attention`, GPU only, bf16. The public
  API takes packed segments only as a boolean mask (turned into an additive bias), causal as
  `is_causal` so cuDNN skips the upper triangle.
- `splash`: Pallas splash attention (TPU), segment ids natively, GQA as one multi-query kernel per
  key/value head; under a mesh it runs per shard through `shard_map`.
- `auto`: splash on TPU, cuDNN on GPU with bf16 compute, else XLA.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax.core import spmd

from ixt_jax.models.dot import dot
from ixt_jax.parallel.rules import logical_to_mesh

IMPLEMENTATIONS = ("xla", "cudnn", "splash")
_NEG_INF = -1e30  # finite, so a row that may attend nowhere stays NaN-free
_SPLASH_BLOCKS = (512, 256, 128)  # splash tiles along q and kv: the largest that divides the length

Attend = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


def resolve(attention: str, compute_dtype: str, platform: str | None = None) -> str:
  """The implementation `attention` means on `platform` (default: JAX's default backend).

  Raises ValueError naming `model.attention` when the choice cannot run here, before any kernel is
  traced (a missing cuDNN or TPU would otherwise fail deep inside XLA).
  """
  platform = platform or jax.default_backend()
  if attention == "auto":
    if platform == "tpu":
      return "splash"
    return "cudnn" if platform == "gpu" and compute_dtype == "bfloat16" else "xla"
  needs = {"cudnn": "gpu", "splash": "tpu"}.get(attention)
  if needs and platform != needs:
    raise ValueError(f"model.attention={attention!r} needs a {needs.upper()}, but JAX's backend here is "
                     f"{platform!r}; use model.attention='xla' or 'auto'")
  return attention


def causal_segment_mask(segment_ids: jax.Array) -> jax.Array:
  """[B, 1, 1, T, T]: causal, and never across packed segments."""
  t = segment_ids.shape[1]
  causal = jnp.arange(t)[:, None] >= jnp.arange(t)[None, :]
  same_segment = segment_ids[:, :, None] == segment_ids[:, None, :]
  return (causal[None] & same_segment)[:, None, None]


def make_attend(attention: str, compute_dtype: str, segment_ids: jax.Array) -> Attend:
  """The attention function of one forward pass over rows packed as `segment_ids` [B, T]."""
  implementation = resolve(attention, compute_dtype)
  if implementation == "cudnn":
    return functools.partial(nn_attention, segment_ids=segment_ids, implementation="cudnn")
  if implementation == "splash":
    return functools.partial(splash_attention, segment_ids=segment_ids)
  return functools.partial(xla_attention, mask=causal_segment_mask(segment_ids))


def xla_attention(q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array) -> jax.Array:
  """The reference: q [B, T, H, E] over k, v [B, S, K, E] where mask [B, 1, 1, T, S] (or [B, K, G, T, S])."""
  b, t, heads, head_dim = q.shape
  kv_heads = k.shape[2]
  dtype = q.dtype
  q = q.reshape(b, t, kv_heads, heads // kv_heads, head_dim) * head_dim ** -0.5
  scores = dot("btkge,bske->bkgts", q, k, dtype)
  # The mask as an addend: its gradient is the identity, where a select costs a [T, S] pass.
  scores = scores + jnp.where(mask, 0.0, _NEG_INF)
  # Softmax normalised after the weighted sum: [T, E] divides, not [T, S], and a backward with
  # one [T, S] pass fewer. The max only shifts the exponent (no gradient flows through it).
  weights = jnp.exp(scores - jax.lax.stop_gradient(scores.max(axis=-1, keepdims=True)))
  total_bkgt1 = weights.sum(axis=-1, keepdims=True)
  out = dot("bkgts,bske->btkge", weights, v, dtype)
  out = out / total_bkgt1.transpose(0, 3, 1, 2, 4)
  return out.astype(dtype).reshape(b, t, heads, head_dim)


def nn_attention(q: jax.Array, k: jax.Array, v: jax.Array, segment_ids: jax.Array | None,
                 implementation: str) -> jax.Array:
  """`jax.nn.dot_product_attention` (`implementation` "cudnn" on GPU; "xla" checks the arguments on CPU)."""
  mask = None
  if segment_ids is not None:
    mask = (segment_ids[:, :, None] == segment_ids[:, None, :])[:, None]  # [B, 1, T, S]
  return jax.nn.dot_product_attention(q, k, v, mask=mask, is_causal=True, implementation=implementation)


def splash_attention(q: jax.Array, k: jax.Array, v: jax.Array, segment_ids: jax.Array,
                     interpret: bool = False) -> jax.Array:
  """Pallas splash attention; `interpret=True` runs the same kernel on any backend (tests)."""
  attend = functools.partial(_splash_local, interpret=interpret)
  if not spmd.get_logical_axis_rules() or jax.sharding.get_abstract_mesh().empty:
    return attend(q, k, v, segment_ids)
  # A Pallas kernel is opaque to the SPMD partitioner: run it on each shard (batch over the
  # data axes, heads over the tensor axis; every shard holds whole sequences).
  qkv_spec = logical_to_mesh(("batch", "length", "act_heads", None))
  kv_spec = logical_to_mesh(("batch", "length", "act_kv_heads", None))
  segment_spec = logical_to_mesh(("batch", "length"))
  return jax.shard_map(attend, in_specs=(qkv_spec, kv_spec, kv_spec, segment_spec), out_specs=qkv_spec,
                       check_vma=False)(q, k, v, segment_ids)


def _splash_local(q: jax.Array, k: jax.Array, v: jax.Array, segment_ids: jax.Array,
                  interpret: bool) -> jax.Array:
  from jax.experimental.pallas.ops.tpu import splash_attention as splash  # pylint: disable=g-import-not-at-top
  b, t, heads, head_dim = q.shape
  s, kv_heads = k.shape[1], k.shape[2]
  groups = heads // kv_heads
  if t % _SPLASH_BLOCKS[-1] or s % _SPLASH_BLOCKS[-1]:
    raise ValueError(f"model.attention='splash' needs sequence lengths that are multiples of "
                     f"{_SPLASH_BLOCKS[-1]}, got {t} queries over {s} keys")
  block_q = next(size for size in _SPLASH_BLOCKS if t % size == 0)
  block_kv = next(size for size in _SPLASH_BLOCKS if s % size == 0)
  blocks = splash.BlockSizes(block_q=block_q, block_kv=block_kv, block_kv_compute=block_kv,
                             block_q_dkv=block_q, block_kv_dkv=block_kv, block_kv_dkv_compute=block_kv,
                             block_q_dq=block_q, block_kv_dq=block_kv)
  mask = splash.MultiHeadMask([splash.CausalMask((t, s))] * groups)
  # One multi-query kernel per key/value head: its `groups` query heads share that head's k, v.
  kernel = splash.make_splash_mqa_single_device(mask, block_sizes=blocks, interpret=interpret)
  q_bkgte = (q * head_dim ** -0.5).reshape(b, t, kv_heads, groups, head_dim).transpose(0, 2, 3, 1, 4)
  k_bkse, v_bkse = k.transpose(0, 2, 1, 3), v.transpose(0, 2, 1, 3)

  def one_row(q_kgte, k_kse, v_kse, segments_t):
    ids = splash.SegmentIds(q=segments_t, kv=segments_t)
    return jax.vmap(lambda q_gte, k_se, v_se: kernel(q_gte, k_se, v_se, segment_ids=ids))(q_kgte, k_kse, v_kse)

  out_bkgte = jax.vmap(one_row)(q_bkgte, k_bkse, v_bkse, segment_ids)
  return out_bkgte.transpose(0, 3, 1, 2, 4).reshape(b, t, heads, head_dim).astype(q.dtype)
