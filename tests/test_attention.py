"""Every attention implementation that runs on a CPU equals the einsum reference on packed, GQA, causal rows."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from ixt_jax.models import Transformer, model_config
from ixt_jax.models.attention import causal_segment_mask, nn_attention, resolve, splash_attention, xla_attention
from ixt_jax.parallel.rules import RULES

B, T, HEADS, KV_HEADS, HEAD_DIM = 2, 128, 4, 2, 16  # splash tiles are 128 long


def _packed_batch():
  """q, k, v and segment ids: row 0 holds 3 documents and padding, row 1 two documents."""
  keys = jax.random.split(jax.random.key(0), 4)
  q = jax.random.normal(keys[0], (B, T, HEADS, HEAD_DIM))
  k = jax.random.normal(keys[1], (B, T, KV_HEADS, HEAD_DIM))
  v = jax.random.normal(keys[2], (B, T, KV_HEADS, HEAD_DIM))
  segment_ids = np.zeros((B, T), np.int32)
  segment_ids[0, :10], segment_ids[0, 10:77], segment_ids[0, 77:100] = 1, 2, 3  # 100..127: padding (0)
  segment_ids[1, :41], segment_ids[1, 41:] = 1, 2
  cotangent = jax.random.normal(keys[3], q.shape)
  return q, k, v, jnp.asarray(segment_ids), cotangent


def _reference(q, k, v, segment_ids):
  return xla_attention(q, k, v, causal_segment_mask(segment_ids))


def _value_and_grads(attend, q, k, v, segment_ids, cotangent):
  loss = lambda q, k, v: jnp.sum(attend(q, k, v, segment_ids) * cotangent)
  return jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2)))(q, k, v)


IMPLEMENTATIONS = {
    "jax.nn.dot_product_attention xla": functools.partial(nn_attention, implementation="xla"),
    "splash (Pallas interpret)": functools.partial(splash_attention, interpret=True),
}


@pytest.mark.parametrize("name", list(IMPLEMENTATIONS))
def test_implementation_equals_reference_forward_and_gradients(name):
  q, k, v, segment_ids, cotangent = _packed_batch()
  attend = IMPLEMENTATIONS[name]
  np.testing.assert_allclose(attend(q, k, v, segment_ids), _reference(q, k, v, segment_ids), rtol=2e-5, atol=2e-5)
  loss, grads = _value_and_grads(attend, q, k, v, segment_ids, cotangent)
  ref_loss, ref_grads = _value_and_grads(_reference, q, k, v, segment_ids, cotangent)
  np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
  for grad, ref_grad in zip(grads, ref_grads):
    np.testing.assert_allclose(grad, ref_grad, rtol=2e-4, atol=2e-4)


def test_reference_never_attends_across_segments():
  q, k, v, segment_ids, _ = _packed_batch()
  out = _reference(q, k, v, segment_ids)
  # The second document of row 1 alone (positions 41..127) gives the same outputs.
  alone = _reference(q[1:, 41:], k[1:, 41:], v[1:, 41:], segment_ids[1:, 41:])
  np.testing.assert_allclose(out[1:, 41:], alone, rtol=1e-5, atol=1e-5)


def test_splash_runs_per_shard_under_a_mesh():
  q, k, v, segment_ids, _ = _packed_batch()
  mesh = jax.make_mesh((2, 2, 2), ("data", "fsdp", "tensor"), axis_types=(jax.sharding.AxisType.Auto,) * 3)
  with jax.set_mesh(mesh), nnx.logical_axis_rules(RULES):
    sharded = jax.jit(functools.partial(splash_attention, interpret=True))(
        jnp.tile(q, (2, 1, 1, 1)), jnp.tile(k, (2, 1, 1, 1)), jnp.tile(v, (2, 1, 1, 1)), jnp.tile(segment_ids, (2, 1)))
  np.testing.assert_allclose(sharded[:B], _reference(q, k, v, segment_ids), rtol=2e-5, atol=2e-5)


def test_auto_picks_by_platform():
  assert jax.default_backend() == "cpu"
  assert resolve("auto", "float32") == "xla"
  assert resolve("auto", "bfloat16") == "xla"
  assert resolve("auto", "bfloat16", platform="gpu") == "cudnn"
  assert resolve("auto", "float32", platform="gpu") == "xla"  # cuDNN flash attention has no float32
  assert resolve("auto", "float32", platform="tpu") == "splash"
  assert resolve("xla", "float32", platform="tpu") == "xla"


@pytest.mark.parametrize("attention", ["cudnn", "splash"])
def test_unavailable_implementation_fails_with_a_clear_message(attention):
  cfg = model_config("1m", vocab_size=97, n_layers=1, compute_dtype="bfloat16", attention=attention)
  model = Transformer(cfg, rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match=f"model.attention='{attention}' needs a"):
    model(jnp.zeros((1, 8), jnp.int32))


def test_attention_config_is_validated():
  with pytest.raises(ValueError, match="model.attention='flash'"):
    model_config("1m", attention="flash")
  with pytest.raises(ValueError, match="model.compute_dtype='bfloat16'"):
    model_config("1m", attention="cudnn")
