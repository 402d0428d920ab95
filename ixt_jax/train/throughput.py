"""Peak FLOP/s of the devices, for MFU: datasheet numbers, or a matmul timed on CPUs."""
from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp

# Dense bf16 peak per device (datasheets). Keys match a prefix of `device_kind`.
PEAK_FLOPS = {
    "TPU v4": 275e12, "TPU v5 lite": 197e12, "TPU v5e": 197e12, "TPU v5p": 459e12, "TPU v5": 459e12,
    "TPU v6 lite": 918e12, "TPU v6e": 918e12,
    "NVIDIA H100": 989e12, "NVIDIA H200": 989e12, "NVIDIA A100": 312e12, "NVIDIA L4": 121e12,
}


def time_call(fn, *args, repeats: int, warmup: int = 2) -> float:
  """Median seconds of `fn(*args)` after warm-up (compilation excluded)."""
  for _ in range(warmup):
    jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return sorted(times)[len(times) // 2]


def matmul_flops(n: int, dtype=jnp.float32, repeats: int = 5) -> float:
  """FLOP/s of an n^3 matmul on the default device: the practical ceiling on a CPU."""
  a = jax.random.normal(jax.random.key(0), (n, n), dtype)
  b = jax.random.normal(jax.random.key(1), (n, n), dtype)
  return 2 * n ** 3 / time_call(jax.jit(jnp.matmul), a, b, repeats=repeats)


@functools.cache
def peak_flops_per_device(configured: float = 0.0) -> float:
  """The configured peak, else the datasheet's for a known accelerator, else a timed matmul."""
  if configured > 0:
    return configured
  kind = jax.devices()[0].device_kind
  for prefix, peak in PEAK_FLOPS.items():
    if kind.startswith(prefix):
      return peak
  # CPU: each simulated device shares the same cores, so the host's rate is the whole budget.
  return matmul_flops(2048, repeats=3) / jax.local_device_count()
