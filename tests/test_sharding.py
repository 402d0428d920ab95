"""Meshes and the rules table: sharded loss and gradients equal the single-device result."""
import jax
import numpy as np
import pytest
from flax import nnx
from jax.sharding import NamedSharding

from ixt_jax.models import Transformer, model_config
from ixt_jax.parallel.mesh import make_mesh, resolve_mesh_shape
from ixt_jax.parallel.rules import logical_to_mesh
from ixt_jax.parallel.sharding import init_sharded, use_mesh
from ixt_jax.train.loss import next_token_targets, weighted_cross_entropy


def _cfg(kv_heads):
  return model_config("1m", vocab_size=128, d_model=64, d_ff=128, n_layers=2, n_heads=8,
                      n_kv_heads=kv_heads, head_dim=16)


def _batch():
  rng = np.random.default_rng(0)
  tokens = rng.integers(0, 128, (8, 32)).astype(np.int32)
  segment_ids = np.repeat(np.array([[1] * 20 + [2] * 12]), 8, axis=0).astype(np.int32)
  weights = rng.random((8, 32)).astype(np.float32)
  return tokens, segment_ids, weights


def _loss_and_grads(graphdef, params, tokens, segment_ids, weights):
  def loss(params):
    logits = nnx.merge(graphdef, params)(tokens, segment_ids)
    targets, w = next_token_targets(tokens, weights, segment_ids)
    return weighted_cross_entropy(logits, targets, w)[0]
  return jax.value_and_grad(loss)(params)


@pytest.mark.parametrize("shape,kv_heads", [
    ((8, 1, 1), 4), ((2, 4, 1), 4), ((2, 2, 2), 4), ((1, 2, 4), 4), ((1, 1, 8), 8)])
def test_sharded_loss_and_grads_equal_single_device(shape, kv_heads):
  cfg = _cfg(kv_heads)
  make = lambda: Transformer(cfg, rngs=nnx.Rngs(0))
  reference = make()
  graphdef, ref_params = nnx.split(reference)
  batch = _batch()
  ref_loss, ref_grads = jax.jit(_loss_and_grads, static_argnums=0)(graphdef, ref_params, *batch)

  mesh = make_mesh(dict(zip(("data", "fsdp", "tensor"), shape)))
  model = init_sharded(make, mesh)
  _, params = nnx.split(model)
  # Every parameter is sharded exactly as the rules table says.
  for path, var in jax.tree_util.tree_flatten_with_path(params, is_leaf=lambda x: isinstance(x, nnx.Variable))[0]:
    expected = logical_to_mesh(var.get_metadata()["out_sharding"])
    assert var[...].sharding.spec == expected, jax.tree_util.keystr(path)
    assert var[...].sharding.mesh == mesh
  jax.tree.map(np.testing.assert_array_equal, params, ref_params)

  batch_sharding = NamedSharding(mesh, logical_to_mesh(("batch", "length")))
  sharded_batch = [jax.device_put(x, batch_sharding) for x in batch]
  with use_mesh(mesh):
    loss, grads = jax.jit(_loss_and_grads, static_argnums=0)(graphdef, params, *sharded_batch)
  np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6), grads, ref_grads)


def test_uneven_split_fails_before_compiling_naming_axis_and_numbers():
  mesh = make_mesh({"data": 1, "fsdp": 1, "tensor": 8})
  with pytest.raises(ValueError, match=r"kv_heads|dim 2 has size 4, not divisible by mesh axis 'tensor' of size 8"):
    init_sharded(lambda: Transformer(_cfg(4), rngs=nnx.Rngs(0)), mesh)


@pytest.mark.parametrize("requested,message", [
    ({"data": 3, "fsdp": 1, "tensor": 1}, "multiply to 3, which does not divide the 8 devices"),
    ({"data": 16, "fsdp": -1}, "multiply to 16"),
    ({"data": 2, "fsdp": 2, "tensor": 1}, "use 4 devices, but 8 are present"),
    ({"data": -1, "fsdp": -1}, "only one axis may be -1"),
    ({"model": 8}, "unknown axis"),
])
def test_bad_mesh_names_the_numbers(requested, message):
  with pytest.raises(ValueError, match=message):
    make_mesh(requested)


def test_minus_one_takes_the_rest():
  assert resolve_mesh_shape({"data": -1, "fsdp": 2, "tensor": 2}, 8) == (2, 2, 2)
  assert jax.device_count() == 8
