"""Build the (data, fsdp, tensor) device mesh from a config, failing early with the numbers."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import jax
from jax.sharding import AxisType, Mesh

from ixt_jax.errors import ConfigError
from ixt_jax.parallel.rules import MESH_AXES


def resolve_mesh_shape(requested: Mapping[str, int], n_devices: int) -> tuple[int, ...]:
  """Mesh axis sizes with one `-1` meaning "the rest of the devices"."""
  unknown = sorted(set(requested) - set(MESH_AXES))
  if unknown:
    raise ConfigError(f"mesh: unknown axis {unknown}; the axes are {MESH_AXES}")
  sizes = [int(requested.get(axis, 1)) for axis in MESH_AXES]
  free = [axis for axis, size in zip(MESH_AXES, sizes) if size == -1]
  if len(free) > 1:
    raise ConfigError(f"mesh: only one axis may be -1, got {free}")
  if any(size == 0 or size < -1 for size in sizes):
    raise ConfigError(f"mesh: axis sizes must be positive or -1, got {dict(zip(MESH_AXES, sizes))}")
  fixed = math.prod(size for size in sizes if size != -1)
  if n_devices % fixed:
    raise ConfigError(f"mesh: fixed axes {dict(zip(MESH_AXES, sizes))} multiply to {fixed}, "
                      f"which does not divide the {n_devices} devices")
  if free:
    sizes[MESH_AXES.index(free[0])] = n_devices // fixed
  elif fixed != n_devices:
    raise ConfigError(f"mesh: axes {dict(zip(MESH_AXES, sizes))} use {fixed} devices, but {n_devices} "
                      f"are present (use -1 on one axis for the rest)")
  return tuple(sizes)


def make_mesh(requested: Mapping[str, int], devices: Sequence[jax.Device] | None = None) -> Mesh:
  """A mesh with the classic jit-with-shardings behaviour (Auto axes; JAX 0.10 defaults to Explicit)."""
  devices = list(jax.devices() if devices is None else devices)
  shape = resolve_mesh_shape(requested, len(devices))
  return jax.make_mesh(shape, MESH_AXES, axis_types=(AxisType.Auto,) * len(MESH_AXES), devices=devices)


def data_parallel_size(mesh: Mesh) -> int:
  return mesh.shape["data"] * mesh.shape["fsdp"]
