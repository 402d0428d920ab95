"""models.dot: JAX's einsum gradients, and on a CPU a bf16 backward whose every dot XLA keeps in bf16."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from ixt_jax.models import Transformer, model_config
from ixt_jax.models.dot import dot

SHAPES = {  # spec: (a shape, b shape), as the model calls it
    "btd,df->btf": ((2, 6, 8), (8, 12)),
    "btf,fd->btd": ((2, 6, 12), (12, 8)),
    "btd,dhe->bthe": ((2, 6, 8), (8, 2, 4)),
    "bthe,hed->btd": ((2, 6, 2, 4), (2, 4, 8)),
    "btd,vd->btv": ((2, 6, 8), (16, 8)),
    "btkge,bske->bkgts": ((2, 6, 2, 2, 4), (2, 6, 2, 4)),
    "bkgts,bske->btkge": ((2, 2, 2, 6, 6), (2, 6, 2, 4)),
}


@pytest.mark.parametrize("spec", sorted(SHAPES))
def test_float32_gradients_equal_einsums(spec):
  a_shape, b_shape = SHAPES[spec]
  a = jax.random.normal(jax.random.key(0), a_shape)
  b = jax.random.normal(jax.random.key(1), b_shape)
  def loss(f):
    return lambda a, b: jnp.sum(jnp.sin(f(a, b)))
  ours = jax.grad(loss(lambda a, b: dot(spec, a, b, jnp.float32)), argnums=(0, 1))(a, b)
  reference = jax.grad(loss(lambda a, b: jnp.einsum(spec, a, b)), argnums=(0, 1))(a, b)
  for got, want in zip(ours, reference):
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_bfloat16_weight_gradient_stays_float32():
  x = jax.random.normal(jax.random.key(0), (2, 6, 8)).astype(jnp.bfloat16)
  w = jax.random.normal(jax.random.key(1), (8, 12))
  grad_x, grad_w = jax.grad(lambda x, w: dot("btd,df->btf", x, w, jnp.bfloat16).sum(), argnums=(0, 1))(x, w)
  assert (grad_x.dtype, grad_w.dtype) == (jnp.bfloat16, jnp.float32)
  # Every row of x multiplies the all-ones cotangent: the exact sum of bf16 values, in float32.
  np.testing.assert_allclose(grad_w, np.broadcast_to(x.astype(jnp.float32).sum((0, 1))[:, None], (8, 12)), rtol=1e-6)


def test_bfloat16_model_gradient_has_no_float32_dot_on_cpu():
  cfg = model_config("1m", vocab_size=97, n_layers=2, compute_dtype="bfloat16")
  graphdef, params = nnx.split(Transformer(cfg, rngs=nnx.Rngs(0)))
  tokens = jax.random.randint(jax.random.key(0), (2, 16), 0, cfg.vocab_size)
  def loss(params):
    return nnx.merge(graphdef, params)(tokens).sum()
  hlo = jax.jit(jax.grad(loss)).lower(params).compile().as_text()
  types = dict(re.findall(r"%([\w.\-]+) = (\w+)\[", hlo))
  dots = re.findall(r" dot\(%([\w.\-]+), %([\w.\-]+)\)", hlo)
  assert len(dots) >= 2 * 9 * 3  # per layer 9 in the forward, each with 2 in the backward
  assert [types[lhs] + " x " + types[rhs] for lhs, rhs in dots] == ["bf16 x bf16"] * len(dots)
