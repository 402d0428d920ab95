"""einsum in the compute dtype with float32 accumulation, with a backward that XLA:CPU runs natively.

On a CPU, XLA runs a bf16 x bf16 -> f32 dot natively (about 2x float32) only when both operands are
bf16 and in the row-major, untransposed form its dot library takes; otherwise it upcasts the dot
to float32 before choosing. JAX's own backward of `einsum(..., preferred_element_type=f32)` meets
neither condition: it multiplies the float32 cotangent (upcast: no bf16 dot left) and folds the
weight gradient's operand transpose into the dot (column-major: upcast too). So on a CPU the
backward here rounds the cotangent to the compute dtype (exact where the caller rounds the output
to that dtype, as `layers.matmul` does; the usual mixed-precision backward otherwise, as in flash
attention) and writes each gradient as an einsum over whole [batch, length, ...] operands, which
XLA lowers to untransposed bf16 dots. Gradients come back in each operand's own dtype (a float32
weight gets its float32 accumulator, not a bf16 rounding of it). Accelerators keep JAX's einsum.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def dot(spec: str, a: jax.Array, b: jax.Array, dtype) -> jax.Array:
  """float32 einsum(spec, a, b) of the operands rounded to `dtype` ("a,b->out", two operands)."""
  dtype = jnp.dtype(dtype)
  if jax.default_backend() != "cpu":
    return jnp.einsum(spec, a.astype(dtype), b.astype(dtype), preferred_element_type=jnp.float32)
  return _cpu_dot(spec, dtype.name, a.dtype.name, b.dtype.name)(a, b)


def _gradient(spec: str, x: tuple[str, jax.Array], y: tuple[str, jax.Array]) -> jax.Array:
  """float32 einsum of two labelled operands into `spec`, the operand holding spec's first own label first.

  Putting first the operand whose free dimensions lead the result gives XLA a dot whose output needs
  no transpose (a transposed output is as column-major, and upcast, as a transposed operand).
  """
  own = next(label for label in spec if (label in x[0]) != (label in y[0]))
  (x_spec, x_value), (y_spec, y_value) = (x, y) if own in x[0] else (y, x)
  return jnp.einsum(f"{x_spec},{y_spec}->{spec}", x_value, y_value, preferred_element_type=jnp.float32)


@functools.cache
def _cpu_dot(spec: str, dtype: str, a_dtype: str, b_dtype: str):
  """The custom-gradient einsum for one spec and dtypes (cached: defined once, not at every trace)."""
  inputs, out_spec = spec.replace(" ", "").split("->")
  a_spec, b_spec = inputs.split(",")

  @jax.custom_vjp
  def cpu_dot(a, b):
    return jnp.einsum(spec, a.astype(dtype), b.astype(dtype), preferred_element_type=jnp.float32)

  def forward(a, b):
    # The operands are saved as given (a float32 weight is already kept; a second, rounded copy
    # would be one more buffer per scanned layer) and rounded again in the backward.
    return cpu_dot(a, b), (a, b)

  def backward(residuals, grad):
    a, b = (operand.astype(dtype) for operand in residuals)
    grad = grad.astype(dtype)
    grad_a = _gradient(a_spec, (out_spec, grad), (b_spec, b))
    grad_b = _gradient(b_spec, (a_spec, a), (out_spec, grad))
    return grad_a.astype(a_dtype), grad_b.astype(b_dtype)

  cpu_dot.defvjp(forward, backward)
  return cpu_dot
