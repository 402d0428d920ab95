"""Turn logical axis names into NamedShardings and build modules directly sharded.

`init_sharded` runs the constructor inside `jax.jit` with `out_shardings`, so every parameter is
born on its shard and a full copy never sits on one device.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable

import jax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ixt_jax.parallel.rules import RULES, check_divisible, logical_to_mesh


@contextlib.contextmanager
def use_mesh(mesh: Mesh):
  """The mesh and the logical-axis rules together: model code resolves its axis names by both."""
  with jax.set_mesh(mesh), nnx.logical_axis_rules(RULES):
    yield


def state_specs(state: nnx.State) -> nnx.State:
  """PartitionSpec for every variable of `state`, by the rules table (unnamed -> replicated)."""
  def spec(variable):
    names = variable.get_metadata().get("out_sharding")
    return variable.replace(logical_to_mesh(names) if names else PartitionSpec())
  return jax.tree.map(spec, state, is_leaf=lambda x: isinstance(x, nnx.Variable))


def named_shardings(specs, mesh: Mesh):
  return jax.tree.map(lambda s: NamedSharding(mesh, s), specs, is_leaf=lambda x: isinstance(x, PartitionSpec))


def abstract_module(make_module: Callable[[], nnx.Module]) -> tuple[nnx.GraphDef, nnx.State]:
  """The graph and shape-only state of a module, without allocating its parameters."""
  return nnx.split(nnx.eval_shape(make_module))


def init_sharded(make_module: Callable[[], nnx.Module], mesh: Mesh) -> nnx.Module:
  """Builds `make_module()` with each variable sharded by the rules; fails early on uneven splits."""
  graphdef, abstract = abstract_module(make_module)
  specs = state_specs(abstract)
  check_divisible(specs, jax.tree.map(lambda x: x.shape, abstract), mesh)
  shardings = named_shardings(specs, mesh)

  @jax.jit
  def build():
    return nnx.state(make_module())

  with use_mesh(mesh):
    state = jax.jit(build, out_shardings=shardings)()
  return nnx.merge(graphdef, state)
