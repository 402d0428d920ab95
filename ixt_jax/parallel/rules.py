"""The one table that maps logical axis names to mesh axes, and the helpers that apply it.

Model code names axes logically (`embed`, `mlp`, ...); only this file knows the mesh axes
(`data`, `fsdp`, `tensor`). Change parallelism by editing `RULES`, not the model.
"""
from __future__ import annotations

from collections.abc import Sequence

import jax
from flax.core import spmd
from jax.sharding import PartitionSpec

from ixt_jax.errors import ConfigError

MESH_AXES = ("data", "fsdp", "tensor")

RULES: tuple[tuple[str, str | tuple[str, ...] | None], ...] = (
    # parameters: FSDP shards the model dimension, tensor parallelism the wide ones
    ("vocab", "tensor"),
    ("embed", "fsdp"),
    ("mlp", "tensor"),
    ("heads", "tensor"),
    ("kv_heads", "tensor"),
    ("head_dim", None),
    ("layers", None),
    ("norm", None),
    # activations: the batch is split over every data-parallel axis
    ("batch", ("data", "fsdp")),
    ("length", None),
    ("act_embed", None),
    ("act_heads", "tensor"),
    ("act_kv_heads", "tensor"),
    ("act_mlp", "tensor"),
    ("act_vocab", "tensor"),
)


def logical_to_mesh(logical_axes: Sequence[str | None]) -> PartitionSpec:
  """The mesh PartitionSpec of a tensor whose axes carry these logical names."""
  table = dict(RULES)
  for name in logical_axes:
    if name is not None and name not in table:
      raise KeyError(f"logical axis {name!r} has no rule in ixt_jax.parallel.rules.RULES")
  return PartitionSpec(*(table[name] if name is not None else None for name in logical_axes))


def constrain(x: jax.Array, logical_axes: Sequence[str | None]) -> jax.Array:
  """`with_sharding_constraint` by logical names; a no-op outside a mesh + rules context."""
  if not spmd.get_logical_axis_rules() or jax.sharding.get_abstract_mesh().empty:
    return x
  return jax.lax.with_sharding_constraint(x, logical_to_mesh(logical_axes))


def mesh_axes_size(mesh: jax.sharding.Mesh, entry: str | tuple[str, ...] | None) -> int:
  if entry is None:
    return 1
  names = (entry,) if isinstance(entry, str) else entry
  size = 1
  for name in names:
    size *= mesh.shape[name]
  return size


def check_divisible(specs, shapes, mesh: jax.sharding.Mesh) -> None:
  """Raises, naming the parameter, axis and numbers, if a dimension does not split evenly.

  `specs` and `shapes` are matching pytrees of PartitionSpecs and shape tuples (or arrays).
  """
  errors = []
  flat_specs = jax.tree_util.tree_flatten_with_path(specs, is_leaf=lambda x: isinstance(x, PartitionSpec))[0]
  flat_shapes = jax.tree.leaves(shapes, is_leaf=lambda x: isinstance(x, tuple))
  for (path, spec), shape in zip(flat_specs, flat_shapes):
    shape = getattr(shape, "shape", shape)
    for dim, (size, entry) in enumerate(zip(shape, tuple(spec) + (None,) * len(shape))):
      parts = mesh_axes_size(mesh, entry)
      if size % parts:
        errors.append(f"{jax.tree_util.keystr(path)} dim {dim} has size {size}, not divisible by "
                      f"mesh axis {entry!r} of size {parts}")
  if errors:
    raise ConfigError("parameters do not split evenly over the mesh " + dict(mesh.shape).__repr__()
                     + ":\n  " + "\n  ".join(errors))
